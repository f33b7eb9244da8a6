import { Type } from '@sinclair/typebox';
import type { Clock, Timer } from '../core/clock.js';
import type { CommandDispatcher } from '../core/commands.js';
import { describeError, ErrorCode, PraxisboxError } from '../core/errors.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents, UpdateStage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { AgentModule, CommandContext, CommandTable, HealthLevel, HealthReport } from '../core/module.js';
import { openBoard, type Board, type BoardDriver, type ButtonGesture, type GestureTiming } from '../../board/board.js';
import { createDriver } from '../../board/create-driver.js';
import { selectPattern, type LedInputs } from '../../board/led-patterns.js';
import type { BoardConfig } from './board-config.js';
import { factoryReset, type ResetPaths } from './factory-reset.js';

export interface BoardModuleDeps {
  config: () => BoardConfig;
  /** The agent's overall health — the same source `praxisbox status` and the watchdog use. */
  health: () => Promise<HealthLevel>;
  bus: EventBus<AgentEvents>;
  dispatcher: Pick<CommandDispatcher, 'run'>;
  clock: Clock;
  log: Logger;
  paths: ResetPaths;
  /**
   * Stops the agent so that its service manager starts it again (after a factory reset);
   * `afterStop` runs once every module has stopped, before the process exits.
   */
  requestRestart: (afterStop?: () => Promise<void>) => void;
  /** Builds the driver; tests pass probes. Default: the configured driver. */
  driver?: (config: BoardConfig) => Promise<BoardDriver>;
  timing?: Partial<GestureTiming>;
  /** How often health is re-read besides the module events. */
  tickMs?: number;
  /** How long a button press identifies the box. */
  identifySeconds?: number;
}

const UPDATING: ReadonlySet<UpdateStage> = new Set(['downloading', 'verifying', 'unpacking', 'switching', 'restarting']);
const EVENT_SOURCES: ReadonlySet<string> = new Set(['web', 'cloud']);

/**
 * The status LED and button. The LED shows the agent's real health (re-read on every module state or
 * health change and every `tickMs`), overridden by what the box is doing — see `selectPattern`. The
 * button identifies the box (short press) or, after a 10 s hold and a confirming press, runs
 * `box.factory-reset` through the dispatcher like any other caller would.
 */
export class BoardModule implements AgentModule {
  readonly name = 'board';
  readonly configSections = ['board'] as const;
  readonly #deps: BoardModuleDeps;
  #board: Board | undefined;
  #driver: BoardDriver | undefined;
  #inputs: LedInputs = { health: 'ok', resetConfirm: false, updating: false, pairingPending: false };
  #tick: Timer | undefined;
  #identifyTimer: Timer | undefined;
  #refreshing: Promise<void> | undefined;
  #dirty = false;
  #running = false;

  constructor(deps: BoardModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { bus, clock, log } = this.#deps;
    const driver = await (this.#deps.driver ?? createDriver)(this.#deps.config());
    try {
      this.#board = await openBoard({
        driver,
        clock,
        ...(this.#deps.timing ? { timing: this.#deps.timing } : {}),
        onLedError: (err) => log.warn({ err }, `status LED write failed: ${describeError(err)}`),
      });
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
    this.#driver = driver;
    this.#running = true;
    // Pairing and update state survive a restart of this module (config change); an armed reset does not.
    this.#inputs.resetConfirm = false;
    this.#inputs.identifyUntil = undefined;
    this.#board.onButton((g) => this.#onGesture(g));
    bus.on(this.name, 'module.state', () => this.#refresh());
    bus.on(this.name, 'module.health', () => this.#refresh());
    bus.on(this.name, 'cloud.pairing', ({ state }) => {
      this.#inputs.pairingPending = state === 'pending';
      this.#render();
    });
    bus.on(this.name, 'update.progress', ({ stage }) => {
      this.#inputs.updating = UPDATING.has(stage);
      this.#render();
    });
    bus.on(this.name, 'board.identify', ({ seconds }) => this.#identify(seconds));
    this.#scheduleTick();
    await this.#refresh();
    log.info({ driver: driver.kind, led: this.#board.led() }, `status LED and button ready (${driver.kind})`);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#deps.bus.offOwner(this.name);
    for (const t of [this.#tick, this.#identifyTimer]) if (t !== undefined) this.#deps.clock.clearTimeout(t);
    this.#tick = this.#identifyTimer = undefined;
    // A health read in flight is not awaited: it renders nothing once #running is false.
    await this.#board?.close();
    this.#board = undefined;
    this.#driver = undefined;
  }

  status(): Record<string, unknown> {
    const until = this.#inputs.identifyUntil;
    return {
      driver: this.#driver?.kind ?? this.#deps.config().driver,
      led: this.#board?.led() ?? 'off',
      health: this.#inputs.health,
      pairingPending: this.#inputs.pairingPending,
      updating: this.#inputs.updating,
      resetArmed: this.#inputs.resetConfirm,
      ...(until !== undefined && until > this.#deps.clock.now() ? { identifyUntil: new Date(until).toISOString() } : {}),
    };
  }

  healthcheck(): HealthReport {
    const problem = this.#driver?.problem();
    return problem ? { level: 'degraded', reason: problem } : { level: 'ok' };
  }

  commands(): CommandTable {
    return {
      'board.identify': {
        description: 'Let the status LED blink in colours so the box can be found (identify)',
        args: Type.Object({ seconds: Type.Integer({ minimum: 1, maximum: 600, default: 30 }) }, { additionalProperties: false }),
        handler: async (args, ctx) => {
          const { seconds } = args as { seconds: number };
          if (EVENT_SOURCES.has(ctx.source)) this.#deps.bus.emit('board.identify', { seconds, source: ctx.source as 'web' | 'cloud' });
          else this.#identify(seconds);
          return { seconds, until: new Date(this.#deps.clock.now() + seconds * 1000).toISOString() };
        },
      },
      'board.status': {
        description: 'Driver, current LED pattern and what it is based on',
        handler: async () => this.status(),
      },
      'box.factory-reset': {
        description: 'Remove configuration, cloud pairing and web users (identity, device secret and outbox stay), then restart',
        args: Type.Object({ confirm: Type.Literal(true) }, { additionalProperties: false }),
        handler: async (_args, ctx) => this.#factoryReset(ctx),
      },
    };
  }

  async #factoryReset(ctx: CommandContext): Promise<unknown> {
    if (ctx.source === 'cloud' || ctx.source === 'local-broker') {
      throw new PraxisboxError(ErrorCode.CommandRejected, 'a factory reset is only possible at the box itself (button, local command line or web UI)');
    }
    const { log, clock, paths } = this.#deps;
    log.warn({ source: ctx.source }, 'factory reset: removing configuration, cloud pairing and web users');
    const result = await factoryReset(paths);
    log.warn({ removed: result.removed, kept: result.kept }, 'factory reset done: restarting the agent');
    // Let the reply reach the caller (control socket, web UI) before the agent stops. A module may
    // write its state once more while stopping (the cloud link does): sweep again after all stopped.
    clock.setTimeout(() => this.#deps.requestRestart(async () => void (await factoryReset(paths))), 250);
    return { ...result, restarting: true };
  }

  #onGesture(g: ButtonGesture): void {
    const { log, bus } = this.#deps;
    switch (g.type) {
      case 'press': {
        const seconds = this.#deps.identifySeconds ?? 10;
        log.info({ pairingPending: this.#inputs.pairingPending, health: this.#inputs.health }, 'button pressed: identify');
        bus.emit('board.identify', { seconds, source: 'button' });
        return;
      }
      case 'hold':
        log.warn('button held 10 s: factory reset armed — release and press again within 5 s to confirm');
        this.#inputs.resetConfirm = true;
        this.#render();
        return;
      case 'reset-cancelled':
        log.info({ reason: g.reason }, `factory reset cancelled (${g.reason})`);
        this.#inputs.resetConfirm = false;
        this.#render();
        return;
      case 'reset-confirmed':
        log.warn('factory reset confirmed at the button');
        this.#deps.dispatcher.run('box.factory-reset', { confirm: true }, { source: 'internal' }).catch((err: unknown) => {
          log.error({ err }, `factory reset failed: ${describeError(err)}`);
          this.#inputs.resetConfirm = false;
          this.#render();
        });
        return;
    }
  }

  #identify(seconds: number): void {
    const { clock } = this.#deps;
    this.#inputs.identifyUntil = clock.now() + seconds * 1000;
    if (this.#identifyTimer !== undefined) clock.clearTimeout(this.#identifyTimer);
    this.#identifyTimer = clock.setTimeout(() => {
      this.#identifyTimer = undefined;
      this.#render();
    }, seconds * 1000);
    this.#render();
  }

  #scheduleTick(): void {
    this.#tick = this.#deps.clock.setTimeout(() => {
      if (!this.#running) return;
      void this.#refresh();
      this.#scheduleTick();
    }, this.#deps.tickMs ?? 5_000);
  }

  /** Re-reads health; calls arriving meanwhile are folded into one more read afterwards. */
  #refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#dirty = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#dirty = false;
        try {
          this.#inputs.health = await this.#boundedHealth();
        } catch (err) {
          this.#deps.log.warn({ err }, `health for the status LED unavailable: ${describeError(err)}`);
          this.#inputs.health = 'fault';
        }
        this.#render();
      } while (this.#dirty && this.#running);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** A health read that does not answer within a tick counts as a fault (the watchdog would starve too). */
  async #boundedHealth(): Promise<HealthLevel> {
    const { clock } = this.#deps;
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = clock.setTimeout(() => reject(new PraxisboxError(ErrorCode.Timeout, 'health did not answer in time')), this.#deps.tickMs ?? 5_000);
    });
    try {
      return await Promise.race([this.#deps.health(), timeout]);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  }

  #render(): void {
    const board = this.#board;
    if (!this.#running || !board) return;
    const pattern = selectPattern(this.#inputs, this.#deps.clock.now());
    if (pattern !== board.led()) this.#deps.log.debug({ from: board.led(), to: pattern }, `status LED: ${pattern}`);
    board.setLed(pattern);
  }
}
