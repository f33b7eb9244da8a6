import { Type } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import { sleep } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents, PairingState } from '../core/events.js';
import type { BoxIdentity } from '../core/identity.js';
import { ErrorCode, PraxisboxError, describeError } from '../core/errors.js';
import { PairingErrorCode, UNPAIR_RELATIVE_TOPIC, pairingError, type PairingError, type PairingReplyPlain } from './pairing-protocol.js';
import { PairingClient, PairingProtocolError } from './pairing-client.js';
import { PairingStore } from './pairing-store.js';

/** What pairing needs from the cloud link. */
export interface PairingLink {
  /** Where and how to open the provisioning connection (same broker as the link, provisioning account). */
  provisioningPlan(clientId: string): Promise<{ url: string; options: IClientOptions }>;
  /** Drop the current connection and connect again at once (new credentials, or none). */
  reconnectNow(reason: string): void;
  /** Publish on the box's own topic over the link; false when not connected or not acknowledged in time. */
  announce(relativeTopic: string, body: unknown, timeoutMs: number): Promise<boolean>;
}

export interface PairingDeps {
  identity: () => BoxIdentity;
  link: PairingLink;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  log: Logger;
  /** DATA_DIR/cloud: `credentials.json` lives here. */
  dir: string;
  version: string;
  /** How long to wait for a connection or a reply from the cloud. */
  replyTimeoutMs?: number;
}

interface Pending {
  client: PairingClient;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresAt: number;
  intervalSeconds: number;
  abort: AbortController;
}

export interface PairingStatus {
  state: PairingState;
  userCode?: string;
  verificationUri?: string;
  verificationUriComplete?: string;
  expiresAt?: string;
  intervalSeconds?: number;
  account?: { id: string; name: string };
  pairedAt?: string;
  error?: PairingError;
}

const TERMINAL: Partial<Record<string, PairingState>> = { [PairingErrorCode.Expired]: 'expired', [PairingErrorCode.Denied]: 'denied' };

/**
 * Pairing with the practice's cloud account (device flow like RFC 8628): asks the cloud for a user
 * code over a provisioning connection, polls until someone approves or denies it, stores the box's
 * own credentials (0600) and has the cloud link reconnect with them. Unpairing removes them.
 */
export class PairingModule implements AgentModule {
  readonly name = 'pairing';
  readonly #deps: PairingDeps;
  readonly #store: PairingStore;
  #state: PairingState = 'unpaired';
  #pending: Pending | undefined;
  #paired: { account: { id: string; name: string }; pairedAt: string } | undefined;
  #error: PairingError | undefined;
  #starting: Promise<PairingStatus> | undefined;

  constructor(deps: PairingDeps) {
    this.#deps = deps;
    this.#store = new PairingStore(deps.dir);
  }

  async start(): Promise<void> {
    this.#paired = await this.#store.load();
    this.#state = this.#paired ? 'paired' : 'unpaired';
  }

  async stop(): Promise<void> {
    await this.#cancelPending();
  }

  summary(): PairingStatus {
    const p = this.#pending;
    return {
      state: this.#state,
      ...(p && this.#state === 'pending' ? { userCode: p.userCode, verificationUri: p.verificationUri, verificationUriComplete: p.verificationUriComplete, expiresAt: new Date(p.expiresAt).toISOString(), intervalSeconds: p.intervalSeconds } : {}),
      ...(this.#paired && this.#state === 'paired' ? { account: this.#paired.account, pairedAt: this.#paired.pairedAt } : {}),
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  status(): Record<string, unknown> {
    const s = this.summary();
    return { state: s.state, ...(s.account ? { account: s.account.name } : {}), ...(s.error ? { error: s.error.code } : {}) };
  }

  healthcheck(): HealthReport {
    return { level: 'ok' };
  }

  #setState(state: PairingState, error?: PairingErrorCode): void {
    this.#state = state;
    this.#error = error === undefined ? undefined : pairingError(error);
    const expiresAt = state === 'pending' && this.#pending ? new Date(this.#pending.expiresAt).toISOString() : undefined;
    this.#deps.log.info({ pairing: state, ...(error ? { code: error } : {}) }, `cloud pairing: ${state}${error ? ` (${error})` : ''}`);
    this.#deps.bus.emit('cloud.pairing', { state, ...(expiresAt ? { expiresAt } : {}) });
  }

  async #cancelPending(): Promise<void> {
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) return;
    p.abort.abort(new Error('pairing cancelled'));
    await p.client.close();
  }

  async #begin(): Promise<PairingStatus> {
    if (this.#state === 'paired') throw failure(PairingErrorCode.AlreadyPaired, ErrorCode.CommandRejected);
    if (this.#state === 'pending' && this.#pending && this.#deps.clock.now() < this.#pending.expiresAt) return this.summary();
    await this.#cancelPending();
    const { boxId } = this.#deps.identity();
    const timeout = this.#deps.replyTimeoutMs ?? 10_000;
    let client: PairingClient | undefined;
    let reply: PairingReplyPlain;
    try {
      const plan = await this.#deps.link.provisioningPlan(`${boxId}-pairing`);
      client = await PairingClient.connect(plan.url, plan.options, boxId, timeout);
      reply = await client.start(this.#deps.version, timeout);
    } catch (err) {
      await client?.close();
      const code = err instanceof PairingProtocolError ? err.code : PairingErrorCode.CloudUnreachable;
      this.#deps.log.warn({ reason: describeError(err) }, 'pairing could not start');
      this.#setState('failed', code);
      throw failure(code, ErrorCode.DeviceUnavailable);
    }
    if (reply.type !== 'started') {
      await client.close();
      const code = reply.type === 'error' && isPairingCode(reply.code) ? reply.code : PairingErrorCode.Invalid;
      this.#setState('failed', code);
      throw failure(code, ErrorCode.CommandRejected);
    }
    const now = this.#deps.clock.now();
    this.#pending = {
      client,
      userCode: reply.userCode,
      verificationUri: reply.verificationUri,
      verificationUriComplete: reply.verificationUriComplete,
      expiresAt: now + reply.expiresIn * 1000,
      intervalSeconds: reply.interval,
      abort: new AbortController(),
    };
    this.#paired = undefined;
    this.#setState('pending');
    void this.#pollLoop(this.#pending);
    return this.summary();
  }

  async #pollLoop(p: Pending): Promise<void> {
    const { clock, log } = this.#deps;
    const finish = async (state: PairingState, code?: PairingErrorCode): Promise<void> => {
      if (this.#pending !== p) return;
      this.#pending = undefined;
      await p.client.close();
      this.#setState(state, code);
    };
    while (!p.abort.signal.aborted) {
      const left = p.expiresAt - clock.now();
      if (left <= 0) return finish('expired', PairingErrorCode.Expired);
      try {
        await sleep(clock, Math.min(p.intervalSeconds * 1000, left), p.abort.signal);
      } catch {
        return;
      }
      if (clock.now() >= p.expiresAt) return finish('expired', PairingErrorCode.Expired);
      let reply: PairingReplyPlain;
      try {
        reply = await p.client.poll(this.#deps.replyTimeoutMs ?? 10_000);
      } catch (err) {
        if (p.abort.signal.aborted) return;
        if (err instanceof PairingProtocolError && err.code === PairingErrorCode.NoReply) continue;
        return finish('failed', err instanceof PairingProtocolError ? err.code : PairingErrorCode.Invalid);
      }
      if (p.abort.signal.aborted || this.#pending !== p) return;
      if (reply.type === 'pending' || reply.type === 'started') continue;
      if (reply.type === 'error') return finish(TERMINAL[reply.code] ?? 'failed', isPairingCode(reply.code) ? reply.code : PairingErrorCode.Invalid);
      const pairedAt = new Date(clock.now()).toISOString();
      try {
        await this.#store.save({ username: reply.username, password: reply.password, account: reply.account, pairedAt });
      } catch (err) {
        log.error({ reason: describeError(err) }, 'pairing credentials could not be stored');
        return finish('failed', PairingErrorCode.StoreFailed);
      }
      await p.client.ack().catch(() => undefined);
      this.#paired = { account: reply.account, pairedAt };
      await finish('paired');
      this.#deps.link.reconnectNow('paired with the cloud account');
      return;
    }
  }

  async #unpair(): Promise<{ state: 'unpaired'; cloudNotified: boolean }> {
    await this.#cancelPending();
    let cloudNotified = false;
    if (this.#paired || (await this.#store.load())) {
      // Best effort, while the link still has the box's credentials: the cloud removes the account.
      cloudNotified = await this.#deps.link.announce(UNPAIR_RELATIVE_TOPIC, { op: 'unpair', ts: new Date(this.#deps.clock.now()).toISOString() }, 2_000);
      await this.#store.remove();
      this.#paired = undefined;
      this.#deps.link.reconnectNow('unpaired');
    }
    this.#setState('unpaired');
    return { state: 'unpaired', cloudNotified };
  }

  commands(): CommandTable {
    return {
      'cloud.pair.start': {
        description: 'Starts pairing with the practice\'s cloud account: returns the user code to approve there (a running pairing is returned as is)',
        args: Type.Object({}, { additionalProperties: false }),
        handler: async () => {
          // A second click while the first start still waits for the cloud gets the same answer.
          this.#starting ??= this.#begin().finally(() => (this.#starting = undefined));
          return this.#starting;
        },
      },
      'cloud.pair.status': {
        description: 'Pairing state: unpaired, pending (with user code and expiry), paired (with account), expired, denied or failed (with error code)',
        args: Type.Object({}, { additionalProperties: false }),
        handler: async () => this.summary(),
      },
      'cloud.unpair': {
        description: 'Removes the cloud credentials (tells the cloud, best effort); needs {confirm: true}',
        args: Type.Object({ confirm: Type.Literal(true, { description: 'Must be true: unpairing cuts the box off from its cloud account' }) }, { additionalProperties: false }),
        handler: async () => this.#unpair(),
      },
    };
  }
}

function isPairingCode(code: string): code is PairingErrorCode {
  return (Object.values(PairingErrorCode) as string[]).includes(code);
}

/** A command failure whose message starts with the stable pairing code (the web UI maps it; `messageDe` in details). */
function failure(code: PairingErrorCode, errorCode: ErrorCode): PraxisboxError {
  const e = pairingError(code);
  return new PraxisboxError(errorCode, `${code}: ${e.message}`, { details: { pairingCode: code, messageDe: e.messageDe } });
}
