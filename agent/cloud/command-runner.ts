import type { CommandDispatcher, CommandReply } from '../core/commands.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode } from '../core/errors.js';
import type { CommandJournal, JournalEntry, ReplyRoute } from './command-journal.js';
import { checkCommand, parseJson } from './contract.js';
import { COMMAND_ID, COMMAND_NAME, type BoxTopics } from './topics.js';

export interface CommandRunnerDeps {
  journal: CommandJournal;
  dispatcher: CommandDispatcher;
  topics: BoxTopics;
  clock: Clock;
  log: Logger;
  maxMessageBytes: number;
  /** Who sends these commands: the cloud link, or LAN software on the local broker. */
  source: 'cloud' | 'local-broker';
  /** Publishes a reply (QoS 1); resolves true once the broker has it, false when offline. */
  sendReply: (route: ReplyRoute, body: Buffer) => Promise<boolean>;
}

export interface IncomingProps {
  responseTopic?: string;
  correlationData?: Buffer;
}

/**
 * Turns `cmd/{name}` messages into dispatcher calls with the contract's guarantees: validated
 * before anything happens, journaled (fsync) before the PUBACK, run once per id, expired ones not
 * run, every outcome answered — on the MQTT 5 response topic with the correlation data when given,
 * else on `res/{id}`.
 */
export class CommandRunner {
  readonly #deps: CommandRunnerDeps;
  #running = 0;
  #stats = { received: 0, duplicates: 0, rejected: 0, expired: 0 };

  constructor(deps: CommandRunnerDeps) {
    this.#deps = deps;
  }

  stats(): Record<string, number> {
    return { ...this.#stats, running: this.#running, journal: this.#deps.journal.size };
  }

  /**
   * Called before the PUBACK: returns once the command is safely journaled (or answered as invalid).
   * Payloads re-assembled from chunks may exceed the single-message limit (that is what chunks are for).
   */
  async accept(name: string, payload: Buffer, props: IncomingProps, fromChunks = false): Promise<void> {
    const route = (id: string | null): ReplyRoute =>
      props.responseTopic
        ? { topic: props.responseTopic, ...(props.correlationData ? { correlationData: props.correlationData.toString('base64') } : {}) }
        : { topic: this.#deps.topics.response(id ?? '_invalid') };
    const reject = async (id: string | null, code: string, message: string): Promise<void> => {
      this.#stats.rejected += 1;
      this.#deps.log.info({ command: name, code }, `command rejected: ${message}`);
      this.#sendLater(route(id), { id, status: 'error', error: { code, message } });
    };

    const parsed = parseJson(payload);
    const id = typeof (parsed as { id?: unknown } | undefined)?.id === 'string' && COMMAND_ID.test((parsed as { id: string }).id) ? (parsed as { id: string }).id : null;
    if (!fromChunks && payload.length > this.#deps.maxMessageBytes) {
      return reject(id, ErrorCode.InvalidInput, `payload of ${payload.length} bytes exceeds the limit of ${this.#deps.maxMessageBytes}; send it in chunks`);
    }
    if (parsed === undefined) return reject(id, ErrorCode.InvalidInput, 'payload is not JSON');
    const checked = checkCommand(parsed);
    if (!checked.ok) return reject(id, ErrorCode.InvalidInput, `payload does not match the command schema: ${checked.problems.join('; ')}`);
    if (!COMMAND_NAME.test(name)) return reject(checked.value.id, ErrorCode.InvalidInput, 'command name is not a dotted lower-case name');
    const request = checked.value;
    this.#stats.received += 1;

    const existing = this.#deps.journal.get(request.id);
    if (existing) {
      this.#stats.duplicates += 1;
      // Same id again: never run twice. Finished → the stored result again; running → its reply will come.
      if (existing.result) this.#sendLater(route(request.id), { id: request.id, ...existing.result });
      return;
    }
    const now = this.#deps.clock.now();
    const expiresAt = request.expiresAt !== undefined ? Date.parse(request.expiresAt) : undefined;
    const entry: JournalEntry = {
      id: request.id,
      name,
      args: request.args ?? {},
      receivedAt: now,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      route: route(request.id),
    };
    await this.#deps.journal.received(entry);
    void this.run(entry);
  }

  /** Runs a journaled command (new, or interrupted by a restart) and answers it. */
  async run(entry: JournalEntry): Promise<void> {
    this.#running += 1;
    try {
      let result: CommandReply;
      if (entry.expiresAt !== undefined && entry.expiresAt < this.#deps.clock.now()) {
        this.#stats.expired += 1;
        result = { status: 'error', error: { code: ErrorCode.Expired, message: `command expired at ${new Date(entry.expiresAt).toISOString()} and was not run` } };
      } else {
        result = await this.#deps.dispatcher.dispatch(entry.name, entry.args, { source: this.#deps.source, commandId: entry.id });
      }
      await this.#deps.journal.done(entry.id, result, this.#deps.clock.now());
      await this.#reply(entry);
    } catch (err) {
      this.#deps.log.error({ command: entry.name, err }, 'command could not be completed; it runs again after restart');
    } finally {
      this.#running -= 1;
    }
  }

  resumeUnfinished(): void {
    for (const entry of this.#deps.journal.unfinished()) void this.run(entry);
  }

  /** After a reconnect: answers that did not reach the broker go out again. */
  async resendReplies(): Promise<void> {
    for (const entry of this.#deps.journal.unreplied()) await this.#reply(entry);
  }

  async #reply(entry: JournalEntry): Promise<void> {
    if (!entry.result) return;
    const sent = await this.#send(entry.route, { id: entry.id, ...entry.result });
    if (sent) await this.#deps.journal.replied(entry.id);
  }

  /**
   * `accept` runs inside mqtt.js's handler for an incoming message, which holds back every further
   * incoming packet — including the PUBACK of our reply — until it returns. Waiting there for the
   * reply's PUBACK would deadlock, so replies from `accept` are sent without waiting.
   */
  #sendLater(route: ReplyRoute, body: unknown): void {
    void this.#send(route, body).catch(() => undefined);
  }

  async #send(route: ReplyRoute, body: unknown): Promise<boolean> {
    let bytes = Buffer.from(JSON.stringify(body));
    if (bytes.length > this.#deps.maxMessageBytes) {
      const id = (body as { id: string | null }).id;
      bytes = Buffer.from(
        JSON.stringify({ id, status: 'error', error: { code: ErrorCode.InvalidInput, message: `the reply of ${bytes.length} bytes exceeds the message limit; ask for less (e.g. fewer lines)` } }),
      );
    }
    return this.#deps.sendReply(route, bytes);
  }
}
