import { randomBytes, type KeyObject } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parseJson } from './contract.js';
import { PairingErrorCode, isPairingEnvelope, isPairingReplyPlain, newRequestKey, open, pairingTopics, type PairingReplyPlain } from './pairing-protocol.js';

export class PairingProtocolError extends Error {
  readonly code: PairingErrorCode;
  constructor(code: PairingErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * One pairing request over its own short-lived provisioning connection (not the cloud link: before
 * pairing the box has no account of its own). Holds the request's key pair and secret; every reply
 * is opened with the private key, so a reply not made for this request is refused.
 */
export class PairingClient {
  readonly requestId = randomBytes(12).toString('base64url');
  readonly #secret = randomBytes(16).toString('base64url');
  readonly #key: { privateKey: KeyObject; publicKey: string } = newRequestKey();
  readonly #boxId: string;
  readonly #client: MqttClient;
  readonly #topics: { request: string; reply: string };
  #waiter: ((r: PairingReplyPlain | PairingProtocolError) => void) | undefined;

  private constructor(client: MqttClient, boxId: string) {
    this.#client = client;
    this.#boxId = boxId;
    this.#topics = pairingTopics(boxId);
    client.on('message', (_topic, payload) => this.#onReply(payload));
  }

  static async connect(url: string, options: IClientOptions, boxId: string, timeoutMs: number): Promise<PairingClient> {
    // No automatic reconnect until connected: mqtt.js would keep retrying a refused first connect after end().
    const client = mqtt.connect(url, { ...options, reconnectPeriod: 0 });
    client.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new PairingProtocolError(PairingErrorCode.CloudUnreachable, 'no connection to the cloud for pairing')), timeoutMs);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        client.once('error', (err: Error & { code?: unknown }) => {
          clearTimeout(timer);
          reject(new PairingProtocolError(PairingErrorCode.CloudUnreachable, `the cloud refused the provisioning connection${typeof err.code === 'number' ? ` (code ${err.code})` : ''}`));
        });
      });
      // Connected: ride out short broker outages while the pairing is pending.
      client.options.reconnectPeriod = 1_000;
      const pc = new PairingClient(client, boxId);
      // mqtt.js rejects a SUBACK whose every grant is a failure.
      const granted = await client.subscribeAsync(pc.#topics.reply, { qos: 1 }).catch(() => [{ qos: 128 }]);
      if (granted.some((g) => g.qos === 128)) throw new PairingProtocolError(PairingErrorCode.CloudUnreachable, 'the cloud refused the pairing reply topic');
      return pc;
    } catch (err) {
      client.end(true);
      throw err;
    }
  }

  start(version: string, timeoutMs: number): Promise<PairingReplyPlain> {
    return this.#ask({ op: 'start', requestId: this.requestId, boxId: this.#boxId, publicKey: this.#key.publicKey, secret: this.#secret, version }, timeoutMs);
  }

  poll(timeoutMs: number): Promise<PairingReplyPlain> {
    return this.#ask({ op: 'poll', requestId: this.requestId, secret: this.#secret }, timeoutMs);
  }

  /** Tells the cloud the credentials are stored: it forgets them and the code is used up. */
  async ack(): Promise<void> {
    await this.#client.publishAsync(this.#topics.request, JSON.stringify({ op: 'ack', requestId: this.requestId, secret: this.#secret }), { qos: 1 });
  }

  async close(): Promise<void> {
    this.#waiter?.(new PairingProtocolError(PairingErrorCode.NoReply, 'pairing stopped'));
    await this.#client.endAsync(true).catch(() => undefined);
  }

  async #ask(body: Record<string, unknown>, timeoutMs: number): Promise<PairingReplyPlain> {
    const reply = new Promise<PairingReplyPlain | PairingProtocolError>((resolve) => {
      const timer = setTimeout(() => resolve(new PairingProtocolError(PairingErrorCode.NoReply, 'the cloud did not answer the pairing request in time')), timeoutMs);
      this.#waiter = (r) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(r);
      };
    });
    await this.#client.publishAsync(this.#topics.request, JSON.stringify(body), { qos: 1 });
    const r = await reply;
    if (r instanceof PairingProtocolError) throw r;
    return r;
  }

  #onReply(payload: Buffer): void {
    const env = parseJson(payload);
    if (!isPairingEnvelope(env) || env.requestId !== this.requestId) return;
    if (env.error) {
      this.#waiter?.(new PairingProtocolError(PairingErrorCode.Invalid, 'the cloud rejected the pairing request'));
      return;
    }
    if (!env.sealed) return;
    let plain: unknown;
    try {
      plain = open(env.sealed, this.#key.privateKey, this.#key.publicKey);
    } catch {
      return; // not sealed for this request: ignore, like any foreign message
    }
    if (isPairingReplyPlain(plain)) this.#waiter?.(plain);
  }
}
