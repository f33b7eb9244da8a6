import type { IClientOptions } from 'mqtt';
import type { Static } from '@sinclair/typebox';
import type { CloudSection } from './cloud-config.js';
import { isLoopbackHost } from './topics.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

export interface Endpoint {
  url: string;
  username?: string;
  password?: string;
  /** The embedded broker: always MQTT 3.1.1 (aedes 1.x). */
  embedded: boolean;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const PLAIN = new Set(['mqtt:', 'ws:']);
const SECURE = new Set(['mqtts:', 'wss:']);

/**
 * Decides how to connect (pure): refuses unencrypted MQTT to anything but loopback, picks the
 * protocol version, and sets the will and session options of the contract.
 */
export function connectionPlan(
  cfg: Static<typeof CloudSection>,
  endpoint: Endpoint,
  ids: { clientId: string; willTopic: string; session: number },
  tls: TlsMaterial,
): { url: string; options: IClientOptions } {
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    throw new PraxisboxError(ErrorCode.InvalidConfig, 'cloud.url is not a valid URL (expected mqtts://host:port)');
  }
  if (!PLAIN.has(url.protocol) && !SECURE.has(url.protocol)) {
    throw new PraxisboxError(ErrorCode.InvalidConfig, `cloud.url scheme ${url.protocol} is not supported (use mqtts:// or wss://)`);
  }
  if (PLAIN.has(url.protocol) && !isLoopbackHost(url.hostname)) {
    throw new PraxisboxError(
      ErrorCode.InvalidConfig,
      `refusing unencrypted ${url.protocol}// to ${url.hostname}: TLS is mandatory for any host that is not loopback (use mqtts://)`,
    );
  }
  const protocolVersion = endpoint.embedded ? 4 : cfg.protocolVersion;
  const options: IClientOptions = {
    clientId: ids.clientId,
    protocolVersion,
    clean: false,
    keepalive: cfg.keepaliveSeconds,
    connectTimeout: cfg.connectTimeoutSeconds * 1000,
    // Our own reconnect loop with backoff + jitter replaces mqtt.js's fixed interval.
    reconnectPeriod: 0,
    resubscribe: false,
    will: { topic: ids.willTopic, payload: Buffer.from(JSON.stringify({ online: false, session: ids.session })), qos: 1, retain: true },
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 24 * 3600, maximumPacketSize: cfg.maxMessageBytes + 4096 } } : {}),
    ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    ...(SECURE.has(url.protocol) ? { rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) } : {}),
  };
  return { url: endpoint.url, options };
}

/**
 * The provisioning connection of pairing (pure): the link's broker and TLS rules, the public
 * bootstrap account (the internal user on the embedded broker), a clean session and no will.
 */
export function provisioningPlan(cfg: Static<typeof CloudSection>, endpoint: Endpoint, clientId: string, tls: TlsMaterial): { url: string; options: IClientOptions } {
  const creds = endpoint.embedded ? endpoint : { ...endpoint, username: cfg.provisioningUsername, password: cfg.provisioningPassword };
  const plan = connectionPlan(cfg, creds, { clientId, willTopic: '', session: 0 }, tls);
  const { will: _will, properties: _props, ...options } = plan.options;
  return { url: plan.url, options: { ...options, clean: true } };
}

/** Deep merge for partial desired configuration: objects merge, everything else replaces. */
export function mergeConfig(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k], v) : structuredClone(v);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
