import type { Clock, Timer } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { IppClient } from './ipp-client.js';
import type { PrinterCapabilities, PrinterProblem } from './printer-capabilities.js';

/**
 * Reads each printer's capabilities and state now and then (Get-Printer-Attributes) so that
 * printers.list, status and the mapping warnings have them, and reports changes that matter to
 * the practice — reachable or not, stopped, not accepting jobs, paper out, jam, toner — as
 * `printer.state` events. idle ↔ processing alone is not a change (every job would cause two).
 */

export interface PrinterObservation {
  printerId: string;
  reachable: boolean;
  checkedAt: number;
  capabilities?: PrinterCapabilities;
  /** Why the printer could not be asked (no patient data: printer-side terms). */
  error?: string;
}

export interface PrinterStateEvent {
  printerId: string;
  reachable: boolean;
  state: string;
  acceptingJobs: boolean;
  problems: PrinterProblem[];
  reason?: string;
  ts: string;
}

export interface PrinterMonitorDeps {
  printers: ReadonlyArray<{ id: string; client: Pick<IppClient, 'getCapabilities'> }>;
  intervalMs: number;
  emit: (event: PrinterStateEvent) => Promise<void>;
  clock: Clock;
  log: Logger;
}

export function stateEvent(o: PrinterObservation): PrinterStateEvent {
  const status = o.capabilities?.status;
  return {
    printerId: o.printerId,
    reachable: o.reachable,
    state: o.reachable ? (status?.state ?? 'unknown') : 'unreachable',
    acceptingJobs: o.reachable && (status?.acceptingJobs ?? false),
    problems: o.reachable ? (status?.problems ?? []).filter((p) => p.severity !== 'report') : [],
    ...(o.error !== undefined ? { reason: o.error } : {}),
    ts: new Date(o.checkedAt).toISOString(),
  };
}

/** What makes two observations "the same state" for events. */
export function stateKey(e: PrinterStateEvent): string {
  const stopped = e.state === 'stopped';
  return JSON.stringify([e.reachable, stopped, e.acceptingJobs, e.problems.map((p) => p.keyword).sort()]);
}

export class PrinterMonitor {
  readonly #deps: PrinterMonitorDeps;
  readonly #last = new Map<string, PrinterObservation>();
  readonly #keys = new Map<string, string>();
  #timer: Timer | undefined;
  #stopped = true;
  #round: Promise<void> = Promise.resolve();

  constructor(deps: PrinterMonitorDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    this.#round = this.#pollAll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round.catch(() => undefined);
  }

  observation(printerId: string): PrinterObservation | undefined {
    return this.#last.get(printerId);
  }

  /** Asks one printer now (printers.list); also reports a change. */
  async refresh(printerId: string): Promise<PrinterObservation | undefined> {
    const printer = this.#deps.printers.find((p) => p.id === printerId);
    if (!printer) return undefined;
    let observation: PrinterObservation;
    try {
      const capabilities = await printer.client.getCapabilities();
      observation = { printerId, reachable: true, checkedAt: this.#deps.clock.now(), capabilities };
    } catch (err) {
      const previous = this.#last.get(printerId)?.capabilities;
      observation = { printerId, reachable: false, checkedAt: this.#deps.clock.now(), error: describeError(err), ...(previous ? { capabilities: previous } : {}) };
    }
    this.#last.set(printerId, observation);
    await this.#report(observation);
    return observation;
  }

  async #pollAll(): Promise<void> {
    await Promise.all(this.#deps.printers.map((p) => this.refresh(p.id)));
    if (this.#stopped) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#round = this.#pollAll();
    }, this.#deps.intervalMs);
    this.#timer.unref?.();
  }

  async #report(o: PrinterObservation): Promise<void> {
    const event = stateEvent(o);
    const key = stateKey(event);
    if (this.#keys.get(o.printerId) === key) return;
    this.#keys.set(o.printerId, key);
    const problems = event.problems.map((p) => p.keyword).join(', ');
    this.#deps.log[event.reachable && problems === '' ? 'info' : 'warn'](
      { printerId: o.printerId, reachable: event.reachable, state: event.state, problems: event.problems.map((p) => p.keyword) },
      `printer ${o.printerId}: ${event.state}${problems ? ` (${problems})` : ''}${event.reason ? `: ${event.reason}` : ''}`,
    );
    try {
      await this.#deps.emit(event);
    } catch (err) {
      this.#deps.log.error({ printerId: o.printerId, err }, `printer.state event could not be stored: ${describeError(err)}`);
    }
  }
}
