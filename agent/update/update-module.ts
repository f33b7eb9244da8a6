import { Type } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents, UpdateStage } from '../core/events.js';
import { ErrorCode, PraxisboxError, describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AgentModule, CommandTable, HealthLevel, HealthReport, ModuleState } from '../core/module.js';
import type { Outbox } from '../outbox/outbox-event.js';
import type { Keyring } from './release-manifest.js';
import { UPLOAD_ID, appendUpload, type ReleaseSource } from './release-source.js';
import { ReleaseStore } from './release-store.js';
import { VERSION_PATTERN } from './semver.js';
import type { UpdateConfig } from './update-config.js';
import { commitDecision, planStartup } from './update-plan.js';
import { UpdateRunner, type ApplyOutcome } from './update-runner.js';
import { readUpdateState, writeUpdateState, type UpdateState } from './update-state.js';

export interface UpdateModuleDeps {
  /** The release tree (`/opt/praxisbox`, `PRAXISBOX_APP_DIR`). */
  appDir: string;
  dataDir: string;
  version: string;
  config: () => UpdateConfig;
  outbox: Pick<Outbox, 'append'>;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  log: Logger;
  /** The trusted release keys (the embedded keyring; tests pass their own). */
  keyring: () => Keyring;
  /** Overall health and module states: the same source as the LED and the watchdog. */
  status: () => Promise<{ health: HealthLevel; modules: readonly { state: ModuleState }[] }>;
  /** Ends the process with a non-zero code so that systemd starts it again (from `current`). */
  requestRestart: (reason: string) => void;
  fetch?: typeof fetch;
  checkIntervalMs?: number;
  restartDelayMs?: number;
  /** Crash tests: called between steps. */
  step?: (name: string) => Promise<void>;
}

const ApplyArgs = Type.Object(
  {
    version: Type.String({ pattern: VERSION_PATTERN }),
    sig: Type.Union([Type.String({ maxLength: 4096 }), Type.Object({}, { additionalProperties: true })], { description: 'the signed manifest (.sig.json)' }),
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    data: Type.Optional(Type.String({ description: 'the tarball, base64 (sent in chunks over MQTT)' })),
    upload: Type.Optional(Type.String({ pattern: UPLOAD_ID })),
    allowDowngrade: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Application updates: `update.apply`, `update.upload`, `update.status`, and the commit timer of a freshly started release. */
export class UpdateModule implements AgentModule {
  readonly name = 'update';
  readonly configSections = ['update'];
  readonly #deps: UpdateModuleDeps;
  readonly #store: ReleaseStore;
  readonly #runner: UpdateRunner;
  #timer: NodeJS.Timeout | undefined;
  #applying = false;
  #ticking = false;
  #lastState: UpdateState | undefined;

  constructor(deps: UpdateModuleDeps) {
    this.#deps = deps;
    this.#store = new ReleaseStore(deps.appDir);
    this.#runner = new UpdateRunner({
      store: this.#store,
      dataDir: deps.dataDir,
      running: deps.version,
      keyring: deps.keyring,
      config: deps.config,
      clock: deps.clock,
      log: deps.log,
      fetch: deps.fetch ?? fetch,
      health: async () => (await deps.status()).health,
      progress: (stage, version, extra) => this.#progress(stage, version, extra),
      step: deps.step ?? (async () => undefined),
    });
  }

  async start(): Promise<void> {
    const state = await readUpdateState(this.#deps.dataDir);
    this.#lastState = state;
    const current = await this.#store.currentTarget();
    const plan = planStartup(state, this.#deps.version, current);
    if (plan.kind === 'idle' || plan.kind === 'report') await this.#store.cleanLeftovers().catch(() => undefined);
    // A failed release is deleted once the box runs the previous one again (a Pi's card is small).
    if ((state?.stage === 'rolled-back' || state?.stage === 'failed') && state.to !== this.#deps.version && current !== state.to) {
      await this.#store.remove(state.to).catch(() => undefined);
    }
    if (!state || plan.kind === 'idle' || plan.kind === 'pending-restart') return;
    if (plan.kind === 'mark-failed') {
      this.#lastState = { ...state, stage: 'failed', reason: plan.reason, reported: false, updatedAt: this.#iso() };
      await writeUpdateState(this.#deps.dataDir, this.#lastState);
    }
    if (plan.kind === 'await-commit') {
      const deadline = state.deadline ?? new Date(this.#deps.clock.now() + this.#deps.config().commitWithinSeconds * 1000).toISOString();
      this.#lastState = { ...state, deadline, updatedAt: this.#iso() };
      await writeUpdateState(this.#deps.dataDir, this.#lastState);
      this.#deps.log.info({ from: state.from, to: state.to, deadline }, 'new release started: commit once health is no worse than before');
    }
    // Never block the other modules: the commit check and the outbox reports run on a timer.
    this.#timer = setInterval(() => void this.#tick(), this.#deps.checkIntervalMs ?? 1000);
    this.#timer.unref();
    void this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  status(): Record<string, unknown> {
    const s = this.#lastState;
    return { version: this.#deps.version, ...(s ? { lastUpdate: { from: s.from, to: s.to, stage: s.stage, ...(s.reason ? { reason: s.reason } : {}) } } : {}) };
  }

  healthcheck(): HealthReport {
    return { level: 'ok' };
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      let state = this.#lastState;
      if (!state) return;
      if (state.stage === 'switched' && state.to === this.#deps.version && state.deadline) {
        const s = await this.#deps.status();
        const decision = commitDecision({
          health: s.health,
          settled: s.modules.every((m) => m.state !== 'starting'),
          healthBefore: state.healthBefore,
          now: this.#deps.clock.now(),
          deadline: Date.parse(state.deadline),
        });
        if (decision === 'wait') return;
        if (decision === 'commit') {
          await this.#runner.commit(state);
          state = { ...state, stage: 'committed', reported: false };
          this.#deps.log.info({ from: state.from, to: state.to }, `release ${state.to} committed`);
        } else {
          const reason = `health was ${s.health} (before the update: ${state.healthBefore}) ${this.#deps.config().commitWithinSeconds} s after the start`;
          state = await this.#runner.rollback(state, reason);
          this.#lastState = state;
          this.#deps.log.error({ from: state.from, to: state.to }, `release ${state.to} rolled back: ${reason}`);
          // Report if the outbox takes it; else the previous release reports after the restart.
          await this.#report(state).catch((err: unknown) => this.#deps.log.warn({ err }, 'update.failed not stored yet: the previous release reports it'));
          this.#stopTimer();
          this.#deps.requestRestart('update rolled back');
          return;
        }
        this.#lastState = state;
      }
      if (state.stage !== 'switched' && !state.reported) {
        await this.#report(state);
        this.#stopTimer();
      }
    } catch (err) {
      this.#deps.log.warn({ err }, `update check failed: ${describeError(err)}`);
    } finally {
      this.#ticking = false;
    }
  }

  async #report(state: UpdateState): Promise<void> {
    const committed = state.stage === 'committed';
    await this.#deps.outbox.append(committed ? 'update.committed' : 'update.failed', {
      from: state.from,
      to: state.to,
      stage: state.stage,
      ...(state.reason ? { reason: state.reason } : {}),
    });
    const reported = { ...state, reported: true, updatedAt: this.#iso() };
    await writeUpdateState(this.#deps.dataDir, reported);
    this.#lastState = reported;
    this.#deps.bus.emit('update.progress', { stage: committed ? 'committed' : state.stage === 'rolled-back' ? 'rolled-back' : 'failed', version: state.to, ...(state.reason ? { reason: state.reason } : {}) });
  }

  #progress(stage: UpdateStage, version: string, extra: { percent?: number; reason?: string } = {}): void {
    this.#deps.bus.emit('update.progress', { stage, version, ...extra });
    // The cloud sees progress too; a full outbox must not stop the update.
    this.#deps.outbox.append('update.progress', { stage, version, ...extra }).catch(() => undefined);
  }

  #iso(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }

  async #apply(args: { version: string; sig: unknown; url?: string; data?: string; upload?: string; allowDowngrade?: boolean }): Promise<ApplyOutcome> {
    const sources = [args.url !== undefined, args.data !== undefined, args.upload !== undefined].filter(Boolean).length;
    if (sources !== 1) throw new PraxisboxError(ErrorCode.InvalidInput, 'give exactly one of url, data, upload');
    const source: ReleaseSource = args.url !== undefined ? { url: args.url } : args.data !== undefined ? { data: args.data } : { upload: args.upload as string };
    if (this.#applying) throw new PraxisboxError(ErrorCode.CommandRejected, 'an update is already being applied');
    this.#applying = true;
    try {
      const outcome = await this.#runner.apply({ version: args.version, sig: args.sig, source, ...(args.allowDowngrade !== undefined ? { allowDowngrade: args.allowDowngrade } : {}) });
      if (outcome.outcome === 'switched') {
        this.#lastState = await readUpdateState(this.#deps.dataDir);
        // Let the reply leave the box before the process ends.
        setTimeout(() => {
          this.#progress('restarting', outcome.to);
          this.#deps.requestRestart(`update to ${outcome.to}`);
        }, this.#deps.restartDelayMs ?? 1000).unref();
      }
      return outcome;
    } catch (err) {
      this.#progress('failed', args.version, { reason: err instanceof PraxisboxError ? err.message : 'internal error' });
      throw err;
    } finally {
      this.#applying = false;
    }
  }

  commands(): CommandTable {
    return {
      'update.status': {
        description: 'Running version, releases on the box, where current points and the last update',
        handler: async () => ({
          version: this.#deps.version,
          current: (await this.#store.currentTarget()) ?? null,
          releases: await this.#store.list(),
          lastUpdate: (await readUpdateState(this.#deps.dataDir)) ?? null,
        }),
      },
      'update.upload': {
        description: 'Stores one piece of a release tarball (base64) for a later update.apply {upload}',
        args: Type.Object({ upload: Type.String({ pattern: UPLOAD_ID }), offset: Type.Integer({ minimum: 0 }), data: Type.String({ maxLength: 1024 * 1024 }) }, { additionalProperties: false }),
        handler: async (raw) => {
          const a = raw as { upload: string; offset: number; data: string };
          return { upload: a.upload, bytes: await appendUpload(this.#store.incomingDir, a.upload, a.offset, Buffer.from(a.data, 'base64'), this.#deps.config().maxDownloadBytes) };
        },
      },
      'update.apply': {
        description: 'Verifies a signed release, unpacks it, switches current and restarts; the new release commits once healthy or rolls back',
        args: ApplyArgs,
        handler: async (raw) => this.#apply(raw as Parameters<UpdateModule['apply']>[0]),
      },
    };
  }

  /** In-process callers (tests): the same path as the `update.apply` command. */
  apply(args: { version: string; sig: unknown; url?: string; data?: string; upload?: string; allowDowngrade?: boolean }): Promise<ApplyOutcome> {
    return this.#apply(args);
  }
}
