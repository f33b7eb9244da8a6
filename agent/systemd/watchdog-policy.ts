import type { HealthLevel } from '../core/module.js';
import { overallHealth, type ModuleSnapshot } from '../core/supervisor.js';

/** What systemd told the agent through its environment (see sd_notify(3), sd_watchdog_enabled(3)). */
export interface NotifySettings {
  /** NOTIFY_SOCKET: set only when a service manager waits for notifications. */
  socket?: string;
  /** WATCHDOG_USEC in ms, when the watchdog is meant for this process. */
  watchdogMs?: number;
  /** How long the critical-module fault may last before the feed stops (PRAXISBOX_WATCHDOG_FAULT_GRACE_SEC). */
  faultGraceMs: number;
}

export const FAULT_GRACE_VARIABLE = 'PRAXISBOX_WATCHDOG_FAULT_GRACE_SEC';
export const DEFAULT_FAULT_GRACE_MS = 5 * 60_000;

/** Reads the notification settings; a malformed value disables that part rather than guessing. */
export function notifySettings(env: Readonly<Record<string, string | undefined>>, pid: number): NotifySettings {
  const socket = env['NOTIFY_SOCKET'];
  const graceText = env[FAULT_GRACE_VARIABLE];
  const grace = graceText !== undefined && graceText.trim() !== '' ? Number(graceText) : Number.NaN;
  const settings: NotifySettings = { faultGraceMs: Number.isFinite(grace) && grace >= 0 ? Math.round(grace * 1000) : DEFAULT_FAULT_GRACE_MS };
  if (socket === undefined || socket === '') return settings;
  settings.socket = socket;
  const usec = Number(env['WATCHDOG_USEC']);
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it must not feed.
  const forPid = env['WATCHDOG_PID'];
  const ours = forPid === undefined || forPid === '' || Number(forPid) === pid;
  if (Number.isInteger(usec) && usec > 0 && ours) settings.watchdogMs = Math.max(1, Math.floor(usec / 1000));
  return settings;
}

/** One round's reading of the supervisor snapshot, for the watchdog and the STATUS line. */
export interface HealthView {
  /** The same level the LED and `praxisbox status` show. */
  level: HealthLevel;
  /**
   * Modules at fault that are not running: only critical modules (identity, outbox) are at fault
   * while down. These are the faults a process restart may cure.
   */
  downAtFault: string[];
  /** One line for `systemctl status`: level and module names/states only, never reasons or data. */
  summary: string;
}

const STATUS_MAX = 200;

export function viewOf(snapshot: readonly ModuleSnapshot[]): HealthView {
  const level = overallHealth(snapshot);
  const downAtFault = snapshot.filter((m) => m.state !== 'running' && m.state !== 'disabled' && m.health.level === 'fault').map((m) => m.name);
  const running = snapshot.filter((m) => m.state === 'running').length;
  const notOk = snapshot
    .filter((m) => m.state !== 'disabled' && (m.state !== 'running' || m.health.level !== 'ok'))
    .map((m) => `${m.name} ${m.state === 'running' ? m.health.level : m.state}`);
  const detail = notOk.length > 0 ? `${running} modules running; ${notOk.join(', ')}` : `${running} modules running`;
  // Module names and states are the agent's own identifiers; still, nothing may break the
  // newline-separated notification format.
  const summary = `${level}: ${detail}`.replace(/[\r\n]+/g, ' ');
  return { level, downAtFault, summary: summary.length > STATUS_MAX ? `${summary.slice(0, STATUS_MAX - 1)}…` : summary };
}

export type WatchdogDecision =
  | { feed: true; graceLeftMs?: number }
  | { feed: false; since: number; modules: string[] };

/**
 * When the watchdog is fed after a round that completed in time (pure; the notifier owns timing).
 *
 * Withheld only when critical modules have been down without a break for longer than the grace
 * period. A fault reported by a *running* module (outbox full while the cloud is unreachable)
 * keeps the LED red but is fed: restarting cannot deliver events to an unreachable cloud, and a
 * restart every few minutes through a weekend outage would interrupt card reading and GDT for
 * nothing. Degraded (a missing reader, no configuration yet) is always fed.
 */
export class WatchdogPolicy {
  readonly #graceMs: number;
  #downSince: number | undefined;

  constructor(graceMs: number) {
    this.#graceMs = graceMs;
  }

  decide(view: HealthView, now: number): WatchdogDecision {
    if (view.downAtFault.length === 0) {
      this.#downSince = undefined;
      return { feed: true };
    }
    this.#downSince ??= now;
    const left = this.#downSince + this.#graceMs - now;
    if (left > 0) return { feed: true, graceLeftMs: left };
    return { feed: false, since: this.#downSince, modules: view.downAtFault };
  }
}
