import fs from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type MqttClient, type IPublishPacket, type IClientOptions } from 'mqtt';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import { backoffDelay, sleep } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import type { CommandDispatcher } from '../core/commands.js';
import type { Config } from '../config/schema.js';
import type { BoxIdentity } from '../core/identity.js';
import type { Outbox } from '../outbox/outbox-event.js';
import { describeError, ErrorCode, PraxisboxError } from '../core/errors.js';
import { boxTopics, type BoxTopics } from './topics.js';
import { connectionPlan, provisioningPlan, type Endpoint, type TlsMaterial } from './connection-plan.js';
import { CloudStateFile, loadCredentials } from './cloud-state.js';
import { CommandJournal, type ReplyRoute } from './command-journal.js';
import { CommandRunner } from './command-runner.js';
import { OutboxDrain } from './outbox-drain.js';
import { ChunkReassembler } from './chunking.js';
import { ConfigSync } from './config-sync.js';
import { checkChunk, parseJson, type HealthPayload } from './contract.js';

export interface CloudLinkDeps {
  config: () => Config;
  identity: () => BoxIdentity;
  outbox: Outbox;
  dispatcher: CommandDispatcher;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  log: Logger;
  /** DATA_DIR/cloud: state, credentials, command journal. */
  dir: string;
  version: string;
  /** The embedded broker's address and internal credentials, when it runs. */
  embeddedEndpoint: () => { url: string; username: string; password: string } | undefined;
  /** PRAXISBOX_CLOUD_URL: overrides cloud.url. */
  urlOverride?: string;
  collectHealth: () => Promise<HealthPayload>;
  /** The pairing state for `cloud.status` (the pairing module owns it). */
  pairingStatus?: () => unknown;
}

type LinkState = 'idle' | 'connecting' | 'connected' | 'waiting';

/**
 * The box's link to the cloud over MQTT: presence (retained birth/will with a session counter),
 * health, events drained from the outbox, commands in, desired/reported configuration. Reconnects
 * with its own exponential backoff and jitter, and makes a fresh client for every attempt (mqtt.js
 * clients can get stuck in `disconnecting`), so no client state survives a broken connection.
 */
export class CloudLinkModule implements AgentModule {
  readonly name = 'cloud';
  readonly configSections = ['cloud'];
  readonly #deps: CloudLinkDeps;
  readonly #state: CloudStateFile;
  readonly #journal: CommandJournal;
  #topics: BoxTopics | undefined;
  #runner: CommandRunner | undefined;
  #sync: ConfigSync | undefined;
  #client: MqttClient | undefined;
  #drain: OutboxDrain | undefined;
  #reassembler: ChunkReassembler | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #linkState: LinkState = 'idle';
  #lastError: string | undefined;
  #connectedSince: number | undefined;
  #disconnectedSince: number;
  #session = 0;
  #attempts = 0;
  #target = '';
  #healthTimer: NodeJS.Timeout | undefined;
  #healthDebounce: NodeJS.Timeout | undefined;
  #breakConnection: ((reason: string) => void) | undefined;
  #wake: AbortController | undefined;

  constructor(deps: CloudLinkDeps) {
    this.#deps = deps;
    this.#state = new CloudStateFile(deps.dir);
    this.#journal = new CommandJournal(deps.dir);
    this.#disconnectedSince = deps.clock.now();
  }

  async start(): Promise<void> {
    const { clock, config } = this.#deps;
    const cfg = config().cloud;
    const topics = boxTopics(this.#deps.identity().boxId);
    this.#topics = topics;
    await this.#state.load();
    await this.#journal.open(clock.now(), cfg.commandRetentionHours * 3600_000);
    this.#runner = new CommandRunner({
      journal: this.#journal,
      dispatcher: this.#deps.dispatcher,
      topics,
      clock,
      log: this.#deps.log,
      maxMessageBytes: cfg.maxMessageBytes,
      source: 'cloud',
      sendReply: (route, body) => this.#sendReply(route, body),
    });
    this.#sync = new ConfigSync({
      state: this.#state,
      dispatcher: this.#deps.dispatcher,
      current: () => this.#deps.config(),
      clock,
      log: this.#deps.log,
      publishReported: (body) => this.#publish(topics.configReported, body, { retain: true }),
    });
    this.#reassembler = new ChunkReassembler({ maxBlobBytes: 64 * 1024 * 1024, maxOpen: 8, timeoutMs: 10 * 60_000, now: () => clock.now() });
    this.#runner.resumeUnfinished();
    this.#deps.bus.on(this.name, 'outbox.appended', () => this.#drain?.notify());
    this.#deps.bus.on(this.name, 'module.state', () => this.#healthSoon());
    this.#deps.bus.on(this.name, 'outbox.pressure', () => this.#healthSoon());
    this.#deps.bus.on(this.name, 'config.changed', () => this.#healthSoon());
    this.#abort = new AbortController();
    this.#loop = this.#connectLoop(this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#deps.bus.offOwner(this.name);
    clearInterval(this.#healthTimer);
    clearTimeout(this.#healthDebounce);
    const client = this.#client;
    if (client?.connected && this.#topics) {
      // A clean goodbye, before the connection loop is told to end (that closes the client): the
      // retained state says offline at once instead of after the keepalive.
      await this.#publish(this.#topics.state, { online: false, session: this.#session }, { retain: true, timeoutMs: 1_000 }).catch(() => undefined);
    }
    this.#abort?.abort(new Error('stopping'));
    this.#breakConnection?.('stopping');
    await this.#loop;
    await this.#journal.close();
    this.#linkState = 'idle';
  }

  #endpoint(): Endpoint | undefined {
    const url = this.#deps.urlOverride ?? this.#deps.config().cloud.url;
    if (url !== '') return { url, embedded: false };
    const embedded = this.#deps.embeddedEndpoint();
    return embedded ? { ...embedded, embedded: true } : undefined;
  }

  async #connectLoop(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.#deps;
    while (!signal.aborted) {
      let reason: string;
      try {
        reason = await this.#oneConnection(signal);
      } catch (err) {
        reason = describeError(err);
      }
      this.#linkState = 'waiting';
      if (this.#connectedSince !== undefined) this.#disconnectedSince = clock.now();
      this.#connectedSince = undefined;
      if (signal.aborted) break;
      this.#lastError = reason;
      const cfg = this.#deps.config().cloud;
      const delay = backoffDelay(this.#attempts, cfg.reconnectMinMs, cfg.reconnectMaxMs);
      this.#attempts += 1;
      log.warn({ reason, retryInMs: delay, attempt: this.#attempts }, `cloud link down (${reason}); reconnecting in ${Math.round(delay / 100) / 10} s`);
      this.#wake = new AbortController();
      await sleep(clock, delay, AbortSignal.any([signal, this.#wake.signal])).catch(() => undefined);
      this.#wake = undefined;
    }
  }

  /** One client, from connect to close. Resolves with the reason the connection ended. */
  async #oneConnection(signal: AbortSignal): Promise<string> {
    const cfg = this.#deps.config().cloud;
    const endpoint = this.#endpoint();
    if (!endpoint) return 'no cloud configured and the local broker is not running';
    const topics = this.#topics as BoxTopics;
    const session = await this.#state.nextSession();
    const plan = connectionPlan(cfg, endpoint, { clientId: this.#deps.identity().boxId, willTopic: topics.state, session }, await this.#tlsMaterial());
    if (!endpoint.embedded && (endpoint.username === undefined || endpoint.password === undefined)) {
      const creds = await loadCredentials(path.join(this.#deps.dir, 'credentials.json'));
      if (creds.username !== undefined) plan.options.username = creds.username;
      if (creds.password !== undefined) plan.options.password = creds.password;
    }
    this.#target = new URL(plan.url).host;
    this.#linkState = 'connecting';
    const client = mqtt.connect(plan.url, plan.options);
    this.#client = client;
    client.handleMessage = (packet, done) => {
      this.#incoming(packet).then(
        () => done(),
        (err: unknown) => {
          this.#deps.log.error({ err }, 'incoming message could not be stored; not acknowledged, the broker sends it again');
          done(err instanceof Error ? err : new Error('incoming message failed'));
        },
      );
    };
    let ended: (reason: string) => void = () => undefined;
    const endedP = new Promise<string>((resolve) => (ended = resolve));
    this.#breakConnection = (reason) => ended(reason);
    const onAbort = (): void => ended('stopping');
    signal.addEventListener('abort', onAbort, { once: true });
    let lastError = 'connection closed';
    client.on('error', (err) => {
      lastError = mqttErrorText(err);
    });
    client.on('close', () => ended(lastError));
    client.on('offline', () => ended(lastError));
    // Watchdog: a connect that neither succeeds nor fails in time is abandoned with its client.
    const connectTimer = setTimeout(() => ended(`no CONNACK within ${cfg.connectTimeoutSeconds * 2} s`), cfg.connectTimeoutSeconds * 2000);
    client.once('connect', () => {
      clearTimeout(connectTimer);
      void this.#onConnected(client, session).catch((err: unknown) => ended(`setup after connect failed: ${describeError(err)}`));
    });
    const reason = await endedP;
    clearTimeout(connectTimer);
    signal.removeEventListener('abort', onAbort);
    this.#drain?.stop();
    this.#drain = undefined;
    clearInterval(this.#healthTimer);
    this.#client = undefined;
    this.#breakConnection = undefined;
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    return reason;
  }

  async #onConnected(client: MqttClient, session: number): Promise<void> {
    const topics = this.#topics as BoxTopics;
    const cfg = this.#deps.config().cloud;
    this.#session = session;
    this.#attempts = 0;
    // Many small QoS 1 messages: Nagle's algorithm plus delayed ACKs would hold them back.
    const socket = client.stream as { setNoDelay?: (on: boolean) => unknown };
    socket.setNoDelay?.(true);
    this.#lastError = undefined;
    this.#connectedSince = this.#deps.clock.now();
    this.#linkState = 'connected';
    this.#deps.log.info({ target: this.#target, session, protocol: client.options.protocolVersion }, `cloud link connected to ${this.#target} (session ${session})`);
    await this.#publish(topics.state, { online: true, session, version: this.#deps.version, since: new Date(this.#connectedSince).toISOString() }, { retain: true });
    await client.subscribeAsync([topics.commandWildcard, topics.commandChunk, topics.configDesired], { qos: 1 });
    await this.publishHealth();
    this.#healthTimer = setInterval(() => void this.publishHealth(), cfg.healthIntervalSeconds * 1000);
    this.#healthTimer.unref();
    const drain = new OutboxDrain({
      outbox: this.#deps.outbox,
      topics,
      publish: (topic, payload) => this.#publishRaw(client, topic, payload, {}),
      window: cfg.inflightWindow,
      maxMessageBytes: cfg.maxMessageBytes,
      log: this.#deps.log,
      onFailure: (reason) => this.#breakConnection?.(reason),
    });
    this.#drain = drain;
    drain.start();
    await this.#runner?.resendReplies();
  }

  async #incoming(packet: IPublishPacket): Promise<void> {
    const topics = this.#topics as BoxTopics;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const rest = packet.topic.startsWith(topics.root) ? packet.topic.slice(topics.root.length) : '';
    const props = packet.properties ?? {};
    if (rest.startsWith('cmd/')) {
      await this.#runner?.accept(rest.slice(4), payload, {
        ...(props.responseTopic ? { responseTopic: props.responseTopic } : {}),
        ...(props.correlationData ? { correlationData: props.correlationData } : {}),
      });
    } else if (rest === 'cmd-chunk') {
      await this.#incomingChunk(payload);
    } else if (rest === 'config/desired') {
      void this.#sync?.onDesired(payload);
    }
  }

  async #incomingChunk(payload: Buffer): Promise<void> {
    const checked = checkChunk(parseJson(payload));
    if (!checked.ok) {
      this.#deps.log.warn({ problems: checked.problems }, 'invalid command chunk ignored');
      return;
    }
    const result = this.#reassembler?.add(checked.value);
    if (result?.state === 'failed') this.#deps.log.warn({ blob: result.id, reason: result.reason }, `command chunks dropped: ${result.reason}`);
    if (result?.state === 'complete' && result.topic.startsWith('cmd/')) {
      // A re-assembled command is answered on res/{id}: chunks carry no response topic.
      await this.#runner?.accept(result.topic.slice(4), result.payload, {}, true);
    }
  }

  async publishHealth(): Promise<void> {
    if (!this.#client?.connected || !this.#topics) return;
    try {
      await this.#publish(this.#topics.health, await this.#deps.collectHealth(), { retain: true });
    } catch (err) {
      this.#deps.log.debug({ err }, 'health publish failed');
    }
  }

  #healthSoon(): void {
    clearTimeout(this.#healthDebounce);
    this.#healthDebounce = setTimeout(() => void this.publishHealth(), 1_000);
    this.#healthDebounce.unref();
  }

  async #sendReply(route: ReplyRoute, body: Buffer): Promise<boolean> {
    const client = this.#client;
    if (!client?.connected) return false;
    const properties = route.correlationData !== undefined ? { correlationData: Buffer.from(route.correlationData, 'base64') } : undefined;
    try {
      await this.#publishRaw(client, route.topic, body, properties ? { properties } : {});
      return true;
    } catch {
      return false;
    }
  }

  #publish(topic: string, body: unknown, opts: { retain?: boolean; timeoutMs?: number }): Promise<void> {
    const client = this.#client;
    if (!client) return Promise.reject(new Error('not connected'));
    return this.#publishRaw(client, topic, Buffer.from(JSON.stringify(body)), opts);
  }

  #publishRaw(client: MqttClient, topic: string, payload: Buffer, opts: { retain?: boolean; timeoutMs?: number; properties?: { correlationData: Buffer } }): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = opts.timeoutMs ? setTimeout(() => reject(new Error('publish timed out')), opts.timeoutMs) : undefined;
      client.publish(topic, payload, { qos: 1, retain: opts.retain ?? false, ...(opts.properties && client.options.protocolVersion === 5 ? { properties: opts.properties } : {}) }, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  async #tlsMaterial(): Promise<TlsMaterial> {
    const cfg = this.#deps.config().cloud;
    const read = async (file: string): Promise<Buffer | undefined> => (file === '' ? undefined : fs.readFile(file));
    const [ca, cert, key] = await Promise.all([read(cfg.caFile), read(cfg.clientCertFile), read(cfg.clientKeyFile)]);
    return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }

  /** Drops the connection (or the wait before the next attempt) and connects again at once: after pairing or unpairing. */
  reconnectNow(reason: string): void {
    this.#attempts = 0;
    this.#deps.log.info({ reason }, `cloud link reconnects: ${reason}`);
    this.#breakConnection?.(reason);
    this.#wake?.abort();
  }

  /** Publishes once on the box's own topic; false when not connected or not acknowledged within `timeoutMs`. */
  async announce(relativeTopic: string, body: unknown, timeoutMs: number): Promise<boolean> {
    if (!this.#client?.connected || !this.#topics) return false;
    return this.#publish(`${this.#topics.root}${relativeTopic}`, body, { timeoutMs }).then(
      () => true,
      () => false,
    );
  }

  /**
   * The provisioning connection of pairing: the same broker and TLS settings as the link, the public
   * provisioning account instead of the box's own (the internal user on the embedded broker), a clean
   * session and no will.
   */
  async provisioningPlan(clientId: string): Promise<{ url: string; options: IClientOptions }> {
    const cfg = this.#deps.config().cloud;
    const endpoint = this.#endpoint();
    if (!endpoint) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'no cloud configured and the local broker is not running');
    return provisioningPlan(cfg, endpoint, clientId, await this.#tlsMaterial());
  }

  status(): Record<string, unknown> {
    const now = this.#deps.clock.now();
    return {
      link: this.#linkState,
      target: this.#target,
      session: this.#session,
      ...(this.#connectedSince !== undefined ? { connectedSeconds: Math.round((now - this.#connectedSince) / 1000) } : { disconnectedSeconds: Math.round((now - this.#disconnectedSince) / 1000) }),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      drain: this.#drain?.stats() ?? null,
      commands: this.#runner?.stats() ?? null,
      appliedConfigVersion: this.#state.get().appliedConfigVersion,
      ...(this.#deps.pairingStatus ? { pairing: this.#deps.pairingStatus() } : {}),
    };
  }

  healthcheck(): HealthReport {
    if (this.#linkState === 'connected') return { level: 'ok' };
    const since = Math.round((this.#deps.clock.now() - this.#disconnectedSince) / 1000);
    return { level: 'degraded', reason: `cloud not connected (${since} s)${this.#lastError ? `: ${this.#lastError}` : ''}` };
  }

  commands(): CommandTable {
    return {
      resync: {
        description: 'Publishes state, health and reported config again and re-sends every undelivered event',
        handler: async () => {
          const client = this.#client;
          if (!client?.connected) return { resynced: false, reason: 'not connected' };
          this.#drain?.stop();
          await this.#onConnected(client, this.#session);
          await this.#sync?.republish();
          return { resynced: true, outboxDepth: this.#deps.outbox.stats().depth };
        },
      },
      'cloud.status': {
        description: 'Cloud link state, target, last error, drain and command counters',
        handler: async () => this.status(),
      },
    };
  }
}

/** Connection errors as people need them, without anything a broker could have echoed. */
function mqttErrorText(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') return `broker refused the connection (code ${code}${/not authori[sz]ed|bad user/i.test(err.message) ? ', not authorized' : ''})`;
  return describeError(err);
}
