import type { Aedes, AedesPublishPacket } from 'aedes';
import type { CommandDispatcher } from '../core/commands.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import type { Outbox } from '../outbox/outbox-event.js';
import { CommandJournal } from './command-journal.js';
import { CommandRunner } from './command-runner.js';
import type { BoxTopics } from './topics.js';

export interface LocalBridgeDeps {
  broker: Aedes;
  topics: BoxTopics;
  dispatcher: CommandDispatcher;
  outbox: Outbox;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  log: Logger;
  journalDir: string;
  maxMessageBytes: number;
}

const OWNER = 'local-bridge';

/**
 * When the cloud link goes to a remote broker, the local broker still speaks the contract to
 * practice-LAN software: commands published on it are run through the same dispatcher (journaled,
 * once per id, answered on res/{id}), and every event is mirrored to it as it becomes durable.
 * The mirror is a live feed (QoS 1 to connected subscribers); durable, at-least-once delivery is the
 * cloud link's job. With the embedded default the cloud link itself is the local client, and this
 * bridge is not used.
 */
export class LocalBridge {
  readonly #deps: LocalBridgeDeps;
  readonly #journal: CommandJournal;
  #runner: CommandRunner | undefined;
  #deliver: ((packet: AedesPublishPacket, cb: () => void) => void) | undefined;

  constructor(deps: LocalBridgeDeps) {
    this.#deps = deps;
    this.#journal = new CommandJournal(deps.journalDir);
  }

  async start(retentionMs: number): Promise<void> {
    const { broker, topics, clock, log } = this.#deps;
    await this.#journal.open(clock.now(), retentionMs);
    const runner = new CommandRunner({
      journal: this.#journal,
      dispatcher: this.#deps.dispatcher,
      topics,
      clock,
      log,
      maxMessageBytes: this.#deps.maxMessageBytes,
      source: 'local-broker',
      sendReply: (route, body) => this.#publish(route.topic, body).then(() => true, () => false),
    });
    this.#runner = runner;
    runner.resumeUnfinished();
    this.#deliver = (packet, cb) => {
      const name = packet.topic.slice(topics.root.length + 'cmd/'.length);
      runner.accept(name, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), {}).then(cb, (err: unknown) => {
        log.error({ err }, 'local command could not be journaled');
        cb();
      });
    };
    await new Promise<void>((resolve) => broker.subscribe(topics.commandWildcard, this.#deliver as (p: AedesPublishPacket, cb: () => void) => void, resolve));
    this.#deps.bus.on(OWNER, 'outbox.appended', ({ seq }) => this.#mirror(seq));
  }

  async stop(): Promise<void> {
    this.#deps.bus.offOwner(OWNER);
    const deliver = this.#deliver;
    if (deliver && !this.#deps.broker.closed) {
      await new Promise<void>((resolve) => this.#deps.broker.unsubscribe(this.#deps.topics.commandWildcard, deliver, resolve));
    }
    await this.#journal.close();
  }

  async #mirror(seq: number): Promise<void> {
    const [event] = await this.#deps.outbox.pendingRaw(seq - 1, 1);
    // Already delivered to the cloud and gone: the live feed skips it.
    if (!event || event.seq !== seq) return;
    await this.#publish(this.#deps.topics.event(event.type), event.payload).catch(() => undefined);
  }

  #publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#deps.broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  stats(): Record<string, number> {
    return this.#runner?.stats() ?? {};
  }
}
