import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { TOPIC_PREFIX, boxTopics, parseBoxTopic } from '../topics.js';
import { ChunkReassembler, splitIntoChunks } from '../chunking.js';
import { checkChunk, checkResponse, checkState, parseJson, type CommandResponse, type ConfigReported, type HealthPayload, type StatePayload } from '../contract.js';
import type { OutboxEvent } from '../../outbox/outbox-event.js';
import { PairingService, controlRequest, prepareDynsec, type ControlReply, type ControlRequest, type PairingServiceOptions } from './pairing-service.js';

/** One connection attempt: resolves connected, or rejects on the first error, close or timeout. */
function connectOnce(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, options);
    const onError = (err: Error & { code?: unknown }): void => fail(typeof err.code === 'string' ? err.code : err.message);
    const onClose = (): void => fail('connection closed');
    const detach = (): void => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const fail = (reason: string): void => {
      detach();
      client.end(true);
      reject(new Error(`cannot connect to ${url}: ${reason}`));
    };
    const timer = setTimeout(() => fail('timed out'), 6_000);
    client.once('connect', () => {
      detach();
      // mqtt.js emits 'error' for every failed reconnect; without a listener that would throw.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.on('error', onError);
    client.on('close', onClose);
  });
}

export interface CloudSimOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  /** Client certificate and key (PEM files) for brokers that require mutual TLS. */
  certFile?: string;
  keyFile?: string;
  /** 5, 4, or undefined = try 5 and fall back to 3.1.1 (the embedded broker speaks 3.1.1 only). */
  protocolVersion?: 4 | 5;
  maxMessageBytes?: number;
  /** Watch only this box (a local-broker user may read only its own box's topics). */
  boxId?: string;
  /** A fixed client id with a persistent session: events published while the sim is away are kept by the broker. */
  clientId?: string;
  /** Answer pairing requests (the cloud side of the device flow) and listen on the control channel. */
  pairing?: PairingServiceOptions;
}

export interface BoxView {
  boxId: string;
  state?: StatePayload;
  health?: HealthPayload;
  reported?: ConfigReported;
  events: OutboxEvent[];
  duplicates: number;
}

/**
 * The reference cloud peer: what the real cloud does with the MQTT contract, small enough to read.
 * Used by `praxisbox cloud-sim` and by the tests. Watches every box's state, health and reported
 * config; collects events de-duplicated by id (re-assembling chunked ones, checksum verified);
 * sends commands (MQTT 5 response topic + correlation data, or res/{id} on 3.1.1); pushes desired
 * configuration and waits for the report.
 */
export class CloudSim {
  readonly #client: MqttClient;
  readonly #boxes = new Map<string, BoxView>();
  readonly #seen = new Map<string, Set<string>>();
  readonly #pending = new Map<string, (r: CommandResponse) => void>();
  readonly #reportWaiters: Array<{ boxId: string; version: number; resolve: (r: ConfigReported) => void }> = [];
  readonly #listeners: Array<(boxId: string, e: OutboxEvent) => void> = [];
  readonly #reassembler = new ChunkReassembler({ maxBlobBytes: 256 * 1024 * 1024, maxOpen: 64, timeoutMs: 600_000, now: () => Date.now() });
  readonly #replyTopic = `cloud-sim/${randomBytes(6).toString('hex')}/reply`;
  readonly maxMessageBytes: number;
  readonly protocolVersion: 4 | 5;
  chunkFailures: string[] = [];
  /** Replies to commands whose id could not be read (not JSON): the box answers them on res/_invalid. */
  invalidReplies: CommandResponse[] = [];
  /** The cloud side of pairing, when enabled with `pairing`. */
  pairing: PairingService | undefined;

  private constructor(client: MqttClient, protocolVersion: 4 | 5, maxMessageBytes: number) {
    this.#client = client;
    this.protocolVersion = protocolVersion;
    this.maxMessageBytes = maxMessageBytes;
    client.on('message', (topic, payload, packet) => this.#onMessage(topic, payload, packet.properties?.correlationData));
  }

  static async connect(opts: CloudSimOptions): Promise<CloudSim> {
    const versions: Array<4 | 5> = opts.protocolVersion ? [opts.protocolVersion] : [5, 4];
    let lastError: unknown;
    for (const protocolVersion of versions) {
      const options: IClientOptions = {
        protocolVersion,
        clientId: opts.clientId ?? `cloud-sim-${randomBytes(5).toString('hex')}`,
        clean: opts.clientId === undefined,
        // MQTT 5 ends a session with its connection unless told otherwise.
        ...(opts.clientId !== undefined && protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: opts.password } : {}),
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.certFile ? { cert: readFileSync(opts.certFile) } : {}),
        ...(opts.keyFile ? { key: readFileSync(opts.keyFile) } : {}),
      };
      let client: MqttClient | undefined;
      try {
        if (opts.pairing?.dynsec) {
          const setup = await connectOnce(opts.url, { ...options, clientId: `cloud-sim-setup-${randomBytes(5).toString('hex')}`, clean: true });
          await prepareDynsec(setup, opts.pairing.dynsec.ownUser).finally(() => setup.end(true));
        }
        const connected = await connectOnce(opts.url, options);
        client = connected;
        // Once connected, ride out broker restarts (the outage tests restart it).
        client.options.reconnectPeriod = 1_000;
        const sim = new CloudSim(client, protocolVersion, opts.maxMessageBytes ?? 256 * 1024);
        if (opts.pairing) {
          // First: on a dynsec broker this grants the simulator the rights the subscriptions below need.
          sim.pairing = new PairingService(client, opts.pairing);
          await sim.pairing.start();
        }
        const box = opts.boxId ?? '+';
        const topics = ['state', 'health', 'evt/#', 'evt-chunk', 'config/reported', 'res/#'].map((t) => `${TOPIC_PREFIX}/${box}/${t}`);
        // Subscriptions the broker refuses (a restricted local-broker user) are skipped, not fatal.
        await new Promise<void>((resolve) => connected.subscribe([...topics, sim.#replyTopic], { qos: 1 }, () => resolve()));
        return sim;
      } catch (err) {
        client?.end(true);
        lastError = err;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('could not connect');
  }

  boxes(): BoxView[] {
    return [...this.#boxes.values()];
  }

  box(boxId: string): BoxView {
    let view = this.#boxes.get(boxId);
    if (!view) {
      view = { boxId, events: [], duplicates: 0 };
      this.#boxes.set(boxId, view);
    }
    return view;
  }

  onEvent(listener: (boxId: string, e: OutboxEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Sends a command and resolves with the reply (or rejects after `timeoutMs`). */
  async command(boxId: string, name: string, args: Record<string, unknown> = {}, opts: { timeoutMs?: number; id?: string; expiresAt?: string; raw?: Buffer } = {}): Promise<CommandResponse> {
    const id = opts.id ?? randomBytes(8).toString('hex');
    const topics = boxTopics(boxId);
    const payload = opts.raw ?? Buffer.from(JSON.stringify({ id, args, ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) }));
    const correlation = randomBytes(8).toString('hex');
    // A 3.1.1 box never sees the response topic (the broker drops MQTT 5 properties for it) and
    // answers on res/{id}: wait on both.
    const keys = [`r:${boxId}:${id}`, ...(this.protocolVersion === 5 ? [`c:${correlation}`] : [])];
    const reply = new Promise<CommandResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        for (const k of keys) this.#pending.delete(k);
        reject(new Error(`no reply to ${name} (${id}) within ${opts.timeoutMs ?? 10_000} ms`));
      }, opts.timeoutMs ?? 10_000);
      for (const k of keys) {
        this.#pending.set(k, (r) => {
          clearTimeout(timer);
          for (const other of keys) this.#pending.delete(other);
          resolve(r);
        });
      }
    });
    if (payload.length > this.maxMessageBytes && !opts.raw) {
      for (const chunk of splitIntoChunks(payload, `cmd/${name}`, this.maxMessageBytes)) {
        await this.#client.publishAsync(topics.commandChunk, JSON.stringify(chunk), { qos: 1 });
      }
    } else {
      await this.#client.publishAsync(topics.command(name), payload, {
        qos: 1,
        ...(this.protocolVersion === 5 ? { properties: { responseTopic: this.#replyTopic, correlationData: Buffer.from(correlation) } } : {}),
      });
    }
    return reply;
  }

  /** Publishes retained desired configuration and resolves with the report for that version. */
  async pushConfig(boxId: string, version: number, config: Record<string, unknown>, timeoutMs = 10_000): Promise<ConfigReported> {
    const report = new Promise<ConfigReported>((resolve, reject) => {
      const waiter = { boxId, version, resolve };
      this.#reportWaiters.push(waiter);
      setTimeout(() => {
        const i = this.#reportWaiters.indexOf(waiter);
        if (i >= 0) this.#reportWaiters.splice(i, 1);
        reject(new Error(`no config report for version ${version} within ${timeoutMs} ms`));
      }, timeoutMs).unref();
    });
    await this.#client.publishAsync(boxTopics(boxId).configDesired, JSON.stringify({ version, config }), { qos: 1, retain: true });
    return report;
  }

  /** Publishes any payload to a topic under the box root (tests: malformed input). */
  async publishRaw(boxId: string, relativeTopic: string, payload: Buffer | string, retain = false): Promise<void> {
    await this.#client.publishAsync(`${boxTopics(boxId).root}${relativeTopic}`, payload, { qos: 1, retain });
  }

  /** Asks the running simulator (possibly another process) over the control channel: approve/deny/list pairings. */
  control(req: Omit<ControlRequest, 'id'>, timeoutMs?: number): Promise<ControlReply> {
    return controlRequest(this.#client, req, timeoutMs);
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }

  #onMessage(topic: string, payload: Buffer, correlationData: Buffer | undefined): void {
    if (topic === this.#replyTopic) {
      const checked = checkResponse(parseJson(payload));
      const key = `c:${correlationData?.toString() ?? ''}`;
      if (checked.ok) this.#pending.get(key)?.(checked.value);
      this.#pending.delete(key);
      return;
    }
    const parsed = parseBoxTopic(topic);
    if (!parsed) return;
    const view = this.box(parsed.boxId);
    const body = parseJson(payload);
    if (parsed.rest === 'state') {
      const state = checkState(body);
      if (state.ok) {
        // A will with an older session than the live one is stale: the box is online.
        if (!(state.value.online === false && view.state?.online && state.value.session < view.state.session)) view.state = state.value;
      }
    } else if (parsed.rest === 'health') {
      view.health = body as HealthPayload;
    } else if (parsed.rest === 'config/reported') {
      view.reported = body as ConfigReported;
      for (const w of [...this.#reportWaiters]) {
        if (w.boxId === parsed.boxId && w.version === view.reported.version) {
          this.#reportWaiters.splice(this.#reportWaiters.indexOf(w), 1);
          w.resolve(view.reported);
        }
      }
    } else if (parsed.rest.startsWith('res/')) {
      const checked = checkResponse(body);
      if (checked.ok && checked.value.id === null) this.invalidReplies.push(checked.value);
      if (!checked.ok || checked.value.id === null) return;
      const key = `r:${parsed.boxId}:${checked.value.id}`;
      this.#pending.get(key)?.(checked.value);
      this.#pending.delete(key);
    } else if (parsed.rest === 'evt-chunk') {
      const chunk = checkChunk(body);
      if (!chunk.ok) return;
      const result = this.#reassembler.add(chunk.value);
      if (result.state === 'failed') this.chunkFailures.push(result.reason);
      if (result.state === 'complete') this.#event(view, parseJson(result.payload) as OutboxEvent);
    } else if (parsed.rest.startsWith('evt/')) {
      this.#event(view, body as OutboxEvent);
    }
  }

  #event(view: BoxView, event: OutboxEvent): void {
    let seen = this.#seen.get(view.boxId);
    if (!seen) {
      seen = new Set();
      this.#seen.set(view.boxId, seen);
    }
    if (seen.has(event.id)) {
      view.duplicates += 1;
      return;
    }
    seen.add(event.id);
    view.events.push(event);
    for (const l of this.#listeners) l(view.boxId, event);
  }
}
