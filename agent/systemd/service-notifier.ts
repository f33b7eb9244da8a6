import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ModuleSnapshot } from '../core/supervisor.js';
import { describeError } from '../core/errors.js';
import { SystemdNotifyTool, type NotifyMessage, type NotifyTransport } from './notify-transport.js';
import { notifySettings, viewOf, WatchdogPolicy, type HealthView, type NotifySettings } from './watchdog-policy.js';

export interface ServiceNotifierDeps {
  settings: NotifySettings;
  transport: NotifyTransport;
  /** The supervisor's snapshot: the same source the LED and `praxisbox status` read. */
  health: () => Promise<readonly ModuleSnapshot[]>;
  clock: Clock;
  log: Logger;
  pid: number;
}

/** What one watchdog round did; returned for tests and logged on change. */
export type RoundOutcome = 'fed' | 'withheld' | 'late' | 'hung' | 'failed' | 'inactive';

/**
 * Tells systemd when the agent is ready, feeds the watchdog from real health and says when it
 * stops. Does nothing unless systemd set NOTIFY_SOCKET. Never throws: a notification that cannot
 * be sent is logged; systemd's own timeouts then decide.
 */
export class ServiceNotifier {
  readonly #deps: ServiceNotifierDeps;
  readonly #policy: WatchdogPolicy;
  #timer: Timer | undefined;
  #inFlight = false;
  #stopped = false;
  #lastOutcome: RoundOutcome | undefined;
  #lastStatus: string | undefined;
  #graceWarned = false;
  #sendFailing = false;

  constructor(deps: ServiceNotifierDeps) {
    this.#deps = deps;
    this.#policy = new WatchdogPolicy(deps.settings.faultGraceMs);
  }

  get active(): boolean {
    return this.#deps.settings.socket !== undefined;
  }

  /** Feed period: half the watchdog timeout, as sd_watchdog_enabled(3) recommends. */
  get intervalMs(): number | undefined {
    const ms = this.#deps.settings.watchdogMs;
    return ms === undefined ? undefined : Math.max(1, Math.floor(ms / 2));
  }

  /**
   * Bound for one health round: a quarter of the timeout, so a round that finishes in time always
   * feeds before the deadline (half a timeout between ticks + a quarter for the round < timeout).
   */
  get roundBoundMs(): number | undefined {
    const ms = this.#deps.settings.watchdogMs;
    return ms === undefined ? undefined : Math.max(1, Math.floor(ms / 4));
  }

  /** READY=1 once every module has started or reported unavailable; then the watchdog runs. */
  async ready(): Promise<void> {
    if (!this.active || this.#stopped) return;
    const view = await this.#read(this.roundBoundMs ?? 5_000);
    const status = typeof view === 'object' ? view.summary : 'started';
    this.#lastStatus = status;
    await this.#send({ ready: true, mainPid: this.#deps.pid, status }, 'READY');
    this.#deps.log.info({ watchdogMs: this.#deps.settings.watchdogMs ?? null, faultGraceMs: this.#deps.settings.faultGraceMs }, 'systemd notified: ready');
    if (this.intervalMs !== undefined) this.#schedule();
  }

  /** STOPPING=1; the watchdog stops with it. */
  async stopping(): Promise<void> {
    if (!this.active || this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#send({ stopping: true, status: 'stopping' }, 'STOPPING');
  }

  /** One watchdog round: read health within the bound, then feed or withhold. */
  async round(): Promise<RoundOutcome> {
    if (!this.active || this.#deps.settings.watchdogMs === undefined || this.#stopped) return 'inactive';
    if (this.#inFlight) return this.#outcome('hung', 'the previous health round has not finished: watchdog not fed');
    const view = await this.#read(this.roundBoundMs ?? 1);
    if (view === 'late') return this.#outcome('late', `health round took longer than ${this.roundBoundMs} ms: watchdog not fed`);
    if (view === 'failed') return this.#outcome('failed', 'health round failed: watchdog not fed');
    if (this.#stopped) return 'inactive';
    const decision = this.#policy.decide(view, this.#deps.clock.now());
    if (decision.feed) {
      const ok = await this.#send({ watchdog: true, status: view.summary }, 'WATCHDOG');
      this.#lastStatus = view.summary;
      if (decision.graceLeftMs !== undefined && !this.#graceWarned) {
        this.#deps.log.warn({ graceLeftMs: decision.graceLeftMs }, 'critical modules down: the watchdog is fed until the grace period ends');
      }
      this.#graceWarned = decision.graceLeftMs !== undefined;
      return ok ? this.#outcome('fed') : this.#outcome('failed', 'watchdog notification could not be sent');
    }
    const status = `${view.summary} (watchdog not fed: critical modules down for ${Math.round((this.#deps.clock.now() - decision.since) / 1000)} s)`;
    if (this.#lastOutcome !== 'withheld') {
      // STATUS only once per episode: `systemctl status` shows why the restart is coming.
      await this.#send({ status }, 'STATUS');
      this.#lastStatus = status;
    }
    return this.#outcome('withheld', `critical modules (${decision.modules.join(', ')}) down longer than the grace period: watchdog not fed, systemd will restart the agent`);
  }

  get lastStatus(): string | undefined {
    return this.#lastStatus;
  }

  #schedule(): void {
    const interval = this.intervalMs;
    if (interval === undefined || this.#stopped) return;
    // The next tick is armed before this round runs, so a hung round cannot stop the cadence:
    // later ticks find it still in flight and withhold the feed.
    const timer = this.#deps.clock.setTimeout(() => {
      this.#schedule();
      void this.round();
    }, interval);
    timer.unref?.();
    this.#timer = timer;
  }

  async #read(boundMs: number): Promise<HealthView | 'late' | 'failed'> {
    this.#inFlight = true;
    const pending = this.#deps.health().then(
      (snapshot) => viewOf(snapshot),
      (err: unknown) => {
        this.#deps.log.warn({ err: describeError(err) }, 'health snapshot failed');
        return 'failed' as const;
      },
    );
    // Cleared only when the snapshot really settles: a hung health check keeps the round in flight.
    void pending.finally(() => (this.#inFlight = false));
    let timer: Timer | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = this.#deps.clock.setTimeout(() => resolve('late'), boundMs);
    });
    try {
      return await Promise.race([pending, late]);
    } finally {
      if (timer) this.#deps.clock.clearTimeout(timer);
    }
  }

  async #send(message: NotifyMessage, what: string): Promise<boolean> {
    try {
      await this.#deps.transport.send(message);
      if (this.#sendFailing) this.#deps.log.info('systemd notifications delivered again');
      this.#sendFailing = false;
      return true;
    } catch (err) {
      // Logged once per failure episode: every 30 s the same line would bury the journal.
      if (!this.#sendFailing) this.#deps.log.warn({ err: describeError(err) }, `could not notify systemd (${what})`);
      this.#sendFailing = true;
      return false;
    }
  }

  #outcome(outcome: RoundOutcome, message?: string): RoundOutcome {
    if (outcome !== this.#lastOutcome) {
      if (outcome === 'fed') {
        if (this.#lastOutcome !== undefined) this.#deps.log.info('watchdog fed again');
      } else if (message) {
        this.#deps.log.error({ outcome }, message);
      }
    }
    this.#lastOutcome = outcome;
    return outcome;
  }
}

/** The notifier for `praxisbox start`: systemd-notify over NOTIFY_SOCKET, inactive outside systemd. */
export function createServiceNotifier(deps: Omit<ServiceNotifierDeps, 'settings' | 'transport'> & { env: Readonly<Record<string, string | undefined>> }): ServiceNotifier {
  const settings = notifySettings(deps.env, deps.pid);
  const path = deps.env['PATH'];
  const transport = new SystemdNotifyTool({ socket: settings.socket ?? '', ...(path !== undefined ? { path } : {}) });
  return new ServiceNotifier({ settings, transport, health: deps.health, clock: deps.clock, log: deps.log, pid: deps.pid });
}
