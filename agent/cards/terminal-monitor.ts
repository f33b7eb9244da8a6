import { backoffDelay, sleep, type Clock, type Timer } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { PNP_NOTIFICATION, type KnownReader, type PcscContext, type PcscDriver, type ReaderStatus } from './pcsc-driver.js';

/** What the monitor reports; called synchronously, in order, on the event loop. */
export interface MonitorListener {
  readerAttached(reader: ReaderStatus): void;
  readerDetached(name: string): void;
  cardInserted(reader: ReaderStatus): void;
  cardRemoved(name: string): void;
  serviceDown(reason: string): void;
  serviceUp(): void;
}

export interface TerminalMonitorDeps {
  driver: PcscDriver;
  clock: Clock;
  log: Logger;
  listener: MonitorListener;
  /** Read on every retry so configuration changes apply. */
  backoff: () => { baseMs: number; maxMs: number };
  /** Upper bound of one wait (the wait ends earlier on any change). */
  waitTimeoutMs?: number;
}

export type ServiceState = { state: 'up'; since: number } | { state: 'down'; since: number; reason: string; nextRetryAt?: number } | { state: 'stopped' };

/** Card events implied by a reader's new status compared with what was known. */
export function statusChanges(prev: ReaderStatus, next: ReaderStatus): Array<'inserted' | 'removed'> {
  if (!prev.present && next.present) return ['inserted'];
  if (prev.present && !next.present) return ['removed'];
  // pcsc-lite counts insertions and removals per reader: two or more while "present" is a swap
  // that happened between two polls.
  if (prev.present && next.present && ((next.eventCount - prev.eventCount) & 0xffff) >= 2) return ['removed', 'inserted'];
  return [];
}

/**
 * Watches the PC/SC service: readers coming and going, cards inserted and removed. When the service
 * disappears (pcscd restarted or stopped) every reader is reported detached and the context is
 * recreated with backoff — a context of a dead pcscd never recovers, even when pcscd comes back.
 */
export class TerminalMonitor {
  readonly #deps: TerminalMonitorDeps;
  #ctx: PcscContext | undefined;
  #loop: Promise<void> | undefined;
  readonly #known = new Map<string, ReaderStatus>();
  #service: ServiceState = { state: 'stopped' };
  #attempt = 0;
  #retryTimer: Timer | undefined;
  #stopped = true;
  #retrying = false;

  constructor(deps: TerminalMonitorDeps) {
    this.#deps = deps;
  }

  get service(): ServiceState {
    return this.#service;
  }

  /** The live context, for connecting to cards; undefined while the service is down. */
  get context(): PcscContext | undefined {
    return this.#ctx;
  }

  readers(): ReaderStatus[] {
    return [...this.#known.values()];
  }

  /** Connects once; throws when PC/SC is not available (the caller reports the module unavailable). */
  async start(): Promise<void> {
    this.#stopped = false;
    const ctx = await this.#deps.driver.establish();
    this.#up(ctx);
  }

  /** A hint that something changed (USB device attached): retry at once if the service is down. */
  nudge(): void {
    if (this.#stopped || this.#service.state !== 'down') return;
    if (this.#retryTimer) this.#deps.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#retry();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#service = { state: 'stopped' };
    if (this.#retryTimer) this.#deps.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const ctx = this.#ctx;
    this.#ctx = undefined;
    ctx?.cancel();
    await this.#loop;
    ctx?.close();
    this.#known.clear();
  }

  #up(ctx: PcscContext): void {
    const wasDown = this.#service.state === 'down';
    this.#ctx = ctx;
    this.#attempt = 0;
    this.#service = { state: 'up', since: this.#deps.clock.now() };
    if (wasDown) this.#deps.listener.serviceUp();
    try {
      this.#applyList(ctx.readers());
    } catch (err) {
      this.#lost(ctx, err);
      return;
    }
    this.#loop = this.#run(ctx);
  }

  async #run(ctx: PcscContext): Promise<void> {
    let pnp: KnownReader | undefined = { name: PNP_NOTIFICATION, state: 0 };
    let spins = 0;
    let spinWindow = this.#deps.clock.now();
    while (this.#ctx === ctx) {
      const known: KnownReader[] = [...this.#known.values()].map((s) => ({ name: s.name, state: s.state }));
      if (pnp) known.push(pnp);
      let result;
      try {
        result = await ctx.waitForChange(known, this.#deps.waitTimeoutMs ?? 60_000);
      } catch (err) {
        this.#lost(ctx, err);
        return;
      }
      if (this.#ctx !== ctx) return;
      if (result === 'cancelled' || result === 'timeout') continue;
      let relist = false;
      for (const s of result) {
        if (s.name === PNP_NOTIFICATION) {
          // Without hotplug support pcsc-lite answers "unknown" at once: poll the list instead of spinning.
          if (s.gone) pnp = undefined;
          else if (s.changed && pnp) pnp = { name: PNP_NOTIFICATION, state: s.state };
          relist ||= s.changed;
          continue;
        }
        if (!s.changed) continue;
        if (s.gone) relist = true;
        else this.#applyStatus(s);
      }
      if (relist || !pnp) {
        try {
          this.#applyList(ctx.readers());
        } catch (err) {
          this.#lost(ctx, err);
          return;
        }
      }
      spins += 1;
      const now = this.#deps.clock.now();
      if (now - spinWindow > 1_000) {
        spins = 0;
        spinWindow = now;
      } else if (spins > 50) {
        // A service that reports changes without changing anything must not eat the CPU.
        await sleep(this.#deps.clock, 200).catch(() => undefined);
      }
    }
  }

  #applyStatus(next: ReaderStatus): void {
    const prev = this.#known.get(next.name);
    if (!prev) return;
    this.#known.set(next.name, next);
    for (const change of statusChanges(prev, next)) {
      if (change === 'inserted') this.#deps.listener.cardInserted(next);
      else this.#deps.listener.cardRemoved(next.name);
    }
  }

  #applyList(current: ReaderStatus[]): void {
    const names = new Set(current.map((r) => r.name));
    for (const [name, prev] of [...this.#known]) {
      if (names.has(name)) continue;
      this.#known.delete(name);
      if (prev.present) this.#deps.listener.cardRemoved(name);
      this.#deps.listener.readerDetached(name);
    }
    for (const r of current) {
      if (r.gone) continue;
      if (this.#known.has(r.name)) {
        this.#applyStatus(r);
        continue;
      }
      this.#known.set(r.name, r);
      this.#deps.listener.readerAttached(r);
      if (r.present) this.#deps.listener.cardInserted(r);
    }
  }

  #lost(ctx: PcscContext, err: unknown): void {
    if (this.#ctx !== ctx) return;
    this.#ctx = undefined;
    ctx.close();
    const reason = `PC/SC service lost: ${describeError(err)}`;
    this.#deps.log.warn({ err }, reason);
    for (const [name, status] of [...this.#known]) {
      this.#known.delete(name);
      if (status.present) this.#deps.listener.cardRemoved(name);
      this.#deps.listener.readerDetached(name);
    }
    this.#service = { state: 'down', since: this.#deps.clock.now(), reason };
    this.#deps.listener.serviceDown(reason);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#service.state !== 'down') return;
    const { baseMs, maxMs } = this.#deps.backoff();
    const delay = backoffDelay(this.#attempt, baseMs, maxMs);
    this.#service = { ...this.#service, nextRetryAt: this.#deps.clock.now() + delay };
    const timer = this.#deps.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#retry();
    }, delay);
    timer.unref?.();
    this.#retryTimer = timer;
  }

  async #retry(): Promise<void> {
    if (this.#stopped || this.#service.state !== 'down' || this.#retrying) return;
    this.#retrying = true;
    this.#attempt += 1;
    try {
      const ctx = await this.#deps.driver.establish();
      if (this.#stopped) {
        ctx.close();
        return;
      }
      const downFor = this.#deps.clock.now() - this.#service.since;
      this.#deps.log.info({ downMs: downFor, attempts: this.#attempt }, 'PC/SC service is back');
      this.#up(ctx);
    } catch (err) {
      if (this.#service.state === 'down') this.#service = { ...this.#service, reason: `PC/SC service not available: ${describeError(err)}` };
      this.#deps.log.debug({ attempt: this.#attempt, err }, 'PC/SC service still not available');
      this.#schedule();
    } finally {
      this.#retrying = false;
    }
  }
}
