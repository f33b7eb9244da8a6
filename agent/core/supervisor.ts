import type { AgentModule, HealthLevel, HealthReport, ModuleState } from './module.js';
import type { Logger } from './logger.js';
import type { EventBus } from './bus.js';
import type { AgentEvents } from './events.js';
import { backoffDelay, type Clock, type Timer } from './clock.js';
import { describeError } from './errors.js';

export interface ModuleSnapshot {
  name: string;
  state: ModuleState;
  since: string;
  reason?: string;
  attempts: number;
  nextRetryAt?: string;
  health: HealthReport;
  details: Record<string, unknown>;
}

export interface SupervisorDeps {
  modules: readonly AgentModule[];
  /** Names of modules configured off: shown as `disabled`, never started. */
  disabled?: ReadonlySet<string>;
  log: Logger;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  retry?: { baseMs: number; maxMs: number };
  startTimeoutMs?: number;
}

interface Slot {
  module: AgentModule;
  state: ModuleState;
  since: number;
  reason?: string;
  attempts: number;
  retryTimer?: Timer;
  nextRetryAt?: number;
  abort?: AbortController;
  lastHealth: HealthReport;
}

/**
 * Starts modules in list order, isolates their failures and retries them with backoff, and stops
 * them in reverse order within a bound. The single owner of every module's lifecycle state.
 */
export class Supervisor {
  readonly #deps: SupervisorDeps;
  readonly #slots: Slot[];
  #stopping = false;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
    const now = deps.clock.now();
    this.#slots = deps.modules.map((module) => ({
      module,
      state: deps.disabled?.has(module.name) ? 'disabled' : 'stopped',
      since: now,
      attempts: 0,
      lastHealth: { level: 'ok' },
    }));
  }

  /** Tries every enabled module once; resolves when each is `running` or `unavailable`. */
  async startAll(): Promise<void> {
    for (const slot of this.#slots) {
      if (slot.state === 'disabled') continue;
      await this.#attempt(slot);
    }
  }

  async stopAll(timeoutMs: number): Promise<{ timedOut: string[] }> {
    this.#stopping = true;
    const deadline = this.#deps.clock.now() + timeoutMs;
    const timedOut: string[] = [];
    for (const slot of [...this.#slots].reverse()) {
      if (slot.retryTimer) this.#deps.clock.clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
      slot.abort?.abort(new Error('agent stopping'));
      if (slot.state !== 'running' && slot.state !== 'starting') {
        if (slot.state !== 'disabled') this.#set(slot, 'stopped');
        continue;
      }
      this.#set(slot, 'stopping');
      const left = Math.max(0, deadline - this.#deps.clock.now());
      const outcome = await this.#bounded(slot.module.stop(), left);
      if (outcome === 'timeout') {
        timedOut.push(slot.module.name);
        this.#deps.log.error({ target: slot.module.name }, `module ${slot.module.name} did not stop in time`);
      } else if (outcome !== 'done') {
        this.#deps.log.error({ target: slot.module.name, err: outcome }, `module ${slot.module.name} failed to stop cleanly`);
      }
      this.#set(slot, 'stopped');
    }
    return { timedOut };
  }

  state(name: string): ModuleState | undefined {
    return this.#slots.find((s) => s.module.name === name)?.state;
  }

  reason(name: string): string | undefined {
    return this.#slots.find((s) => s.module.name === name)?.reason;
  }

  /** Every module's lifecycle state, fresh health and details. */
  async snapshot(): Promise<ModuleSnapshot[]> {
    return Promise.all(this.#slots.map((slot) => this.#snapshotOf(slot)));
  }

  async #snapshotOf(slot: Slot): Promise<ModuleSnapshot> {
    let health: HealthReport;
    let details: Record<string, unknown> = {};
    if (slot.state === 'running') {
      try {
        health = await slot.module.healthcheck();
        details = slot.module.status();
      } catch (err) {
        health = { level: 'fault', reason: `health check failed: ${describeError(err)}` };
      }
    } else if (slot.state === 'disabled') {
      health = { level: 'ok' };
    } else {
      health = {
        level: slot.module.critical ? 'fault' : 'degraded',
        reason: slot.reason ?? `module is ${slot.state}`,
      };
    }
    if (health.level !== slot.lastHealth.level || health.reason !== slot.lastHealth.reason) {
      slot.lastHealth = health;
      this.#deps.bus.emit('module.health', { module: slot.module.name, health });
    }
    return {
      name: slot.module.name,
      state: slot.state,
      since: new Date(slot.since).toISOString(),
      ...(slot.reason !== undefined ? { reason: slot.reason } : {}),
      attempts: slot.attempts,
      ...(slot.nextRetryAt !== undefined ? { nextRetryAt: new Date(slot.nextRetryAt).toISOString() } : {}),
      health,
      details,
    };
  }

  async #attempt(slot: Slot): Promise<void> {
    if (this.#stopping) return;
    slot.retryTimer = undefined;
    slot.nextRetryAt = undefined;
    slot.attempts += 1;
    const abort = new AbortController();
    slot.abort = abort;
    this.#set(slot, 'starting');
    const timeoutMs = this.#deps.startTimeoutMs ?? 15_000;
    const outcome = await this.#bounded(slot.module.start(abort.signal), timeoutMs);
    if (this.#stopping) {
      // stopAll runs concurrently and owns the state from here.
      if (outcome === 'done') await slot.module.stop().catch(() => undefined);
      return;
    }
    if (outcome === 'done') {
      slot.attempts = 0;
      this.#set(slot, 'running');
      return;
    }
    abort.abort(new Error('start failed'));
    const reason = outcome === 'timeout' ? `start timed out after ${timeoutMs} ms` : describeError(outcome);
    // A half-started module may hold resources: give it the chance to release them.
    await this.#bounded(slot.module.stop(), 2_000);
    this.#set(slot, 'unavailable', reason);
    this.#scheduleRetry(slot);
  }

  #scheduleRetry(slot: Slot): void {
    const { baseMs, maxMs } = this.#deps.retry ?? { baseMs: 1_000, maxMs: 300_000 };
    const delay = backoffDelay(slot.attempts - 1, baseMs, maxMs);
    slot.nextRetryAt = this.#deps.clock.now() + delay;
    this.#deps.log.warn(
      { target: slot.module.name, attempt: slot.attempts, retryInMs: delay },
      `module ${slot.module.name} unavailable (${slot.reason ?? 'unknown'}); retrying in ${Math.round(delay / 1000)} s`,
    );
    const timer = this.#deps.clock.setTimeout(() => void this.#attempt(slot), delay);
    timer.unref?.();
    slot.retryTimer = timer;
  }

  /** Stops and starts one module again (after its configuration changed). */
  async restart(name: string): Promise<void> {
    const slot = this.#slots.find((s) => s.module.name === name);
    if (!slot || slot.state === 'disabled' || this.#stopping) return;
    if (slot.retryTimer) this.#deps.clock.clearTimeout(slot.retryTimer);
    slot.retryTimer = undefined;
    if (slot.state === 'running') {
      slot.abort?.abort(new Error('restarting'));
      this.#set(slot, 'stopping');
      await this.#bounded(slot.module.stop(), 10_000);
    }
    slot.attempts = 0;
    await this.#attempt(slot);
  }

  /** Marks a running module unavailable from outside (e.g. its device vanished) and schedules a restart. */
  async fail(name: string, reason: string): Promise<void> {
    const slot = this.#slots.find((s) => s.module.name === name);
    if (!slot || slot.state !== 'running' || this.#stopping) return;
    slot.abort?.abort(new Error(reason));
    await this.#bounded(slot.module.stop(), 2_000);
    this.#set(slot, 'unavailable', reason);
    this.#scheduleRetry(slot);
  }

  #set(slot: Slot, state: ModuleState, reason?: string): void {
    slot.state = state;
    slot.reason = reason;
    slot.since = this.#deps.clock.now();
    this.#deps.log.info({ target: slot.module.name, state, ...(reason ? { reason } : {}) }, `module ${slot.module.name} ${state}`);
    this.#deps.bus.emit('module.state', { module: slot.module.name, state, ...(reason !== undefined ? { reason } : {}) });
  }

  /** Waits for `work` at most `ms`; returns 'done', 'timeout' or the error it rejected with. */
  async #bounded(work: Promise<void>, ms: number): Promise<'done' | 'timeout' | Error> {
    let timer: Timer | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.#deps.clock.setTimeout(() => resolve('timeout'), ms);
    });
    try {
      return await Promise.race([
        work.then(
          () => 'done' as const,
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        ),
        timeout,
      ]);
    } finally {
      if (timer) this.#deps.clock.clearTimeout(timer);
    }
  }
}

/** Overall box health: red if any critical module or check is at fault, yellow for anything else not ok. */
export function overallHealth(modules: readonly Pick<ModuleSnapshot, 'health'>[]): HealthLevel {
  let level: HealthLevel = 'ok';
  for (const m of modules) {
    if (m.health.level === 'fault') return 'fault';
    if (m.health.level === 'degraded') level = 'degraded';
  }
  return level;
}
