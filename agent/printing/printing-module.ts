import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Timer } from '../core/clock.js';
import { describeError, ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Outbox } from '../outbox/outbox-event.js';
import { IppClient, type ClientTimeouts } from './ipp-client.js';
import type { PrinterEndpoint } from './ipp-transport.js';
import { JobStore } from './job-store.js';
import { checkPrinterMappings, type MappingWarning } from './mapping-check.js';
import { PrintError } from './print-error.js';
import { PrintQueue, type JobPrinter } from './print-queue.js';
import { TERMINAL_STATES } from './print-job.js';
import { discoverPrinters, type DiscoveredPrinter, type DiscoverOptions } from './printer-discovery.js';
import type { ProblemKind } from './printer-capabilities.js';
import { PrinterMonitor } from './printer-monitor.js';
import { PrinterSecrets } from './printer-secrets.js';
import { printingCommands } from './printing-commands.js';
import { printingConfigProblems, type PrinterConfig, type PrintingConfig } from './printing-config.js';
import type { TlsTrust } from './tls-trust.js';

export interface PrintingModuleDeps {
  config: () => PrintingConfig;
  outbox: Pick<Outbox, 'append'>;
  clock: Clock;
  log: Logger;
  /** DATA_DIR/printing: job records and printer passwords. */
  dir: string;
  /** Where documents wait (DATA_DIR/spool/print). */
  spoolDir: string;
  boxId: () => string;
  /** Tests: shorter timeouts; discovery stand-in. */
  timeouts?: Partial<ClientTimeouts>;
  discover?: (options: DiscoverOptions) => Promise<DiscoveredPrinter[]>;
}

/** How long printers.list waits for a printer before showing what it last knew. */
const LIST_WAIT_MS = 5_000;
const EVENT_WAIT_MS = 10_000;
const PRUNE_INTERVAL_MS = 3_600_000;
const STOPPING: ReadonlySet<ProblemKind> = new Set(['paper-out', 'jam', 'offline', 'door-open', 'toner-empty', 'output-full']);

/**
 * Printing: the configured printers (one IPP client each), the durable print queue and the printer
 * state monitor, and the commands the cloud and the web UI use. A change of the `printing` section
 * restarts the module; accepted jobs are on disk and carry on after the restart.
 */
export class PrintingModule implements AgentModule {
  readonly name = 'printing';
  readonly configSections = ['printing'];
  readonly #deps: PrintingModuleDeps;
  readonly secrets: PrinterSecrets;
  #clients = new Map<string, IppClient>();
  /** Printers whose client could not be built (CA file unreadable, bad pin): why, for their jobs and health. */
  #broken = new Map<string, string>();
  #store: JobStore | undefined;
  #queue: PrintQueue | undefined;
  #monitor: PrinterMonitor | undefined;
  #config: PrintingConfig | undefined;
  #pruneTimer: Timer | undefined;

  constructor(deps: PrintingModuleDeps) {
    this.#deps = deps;
    this.secrets = new PrinterSecrets(path.join(deps.dir, 'secrets'));
  }

  async start(): Promise<void> {
    const config = this.#deps.config();
    this.#config = config;
    const { log, clock } = this.#deps;
    for (const p of config.printers) {
      try {
        this.#clients.set(p.id, await this.#buildClient(p));
      } catch (err) {
        // One misconfigured printer must not take printing down for the others: its jobs wait and fail at their deadline.
        this.#broken.set(p.id, describeError(err));
        log.error({ printerId: p.id, err }, `printer ${p.id} cannot be used: ${describeError(err)}`);
      }
    }
    const store = new JobStore({ jobsDir: path.join(this.#deps.dir, 'jobs'), spoolDir: this.#deps.spoolDir, log });
    await store.open();
    await store.prune(clock.now(), config.queue.keepFinishedHours * 3_600_000);
    this.#store = store;
    const emit = (type: string) => async (data: unknown) => void (await this.#deps.outbox.append(type, data, { waitMs: EVENT_WAIT_MS }));
    this.#queue = new PrintQueue({
      store,
      printer: (id) => this.#clients.get(id) ?? this.#brokenPrinter(id),
      emit: emit('print.job'),
      policy: () => {
        const q = this.#deps.config().queue;
        return { retryBaseMs: q.retryBaseMs, retryMaxMs: q.retryMaxMs, pollMs: q.pollMs, followMs: q.followHours * 3_600_000, deadlineMs: q.deadlineMinutes * 60_000 };
      },
      clock,
      log,
    });
    this.#queue.start();
    this.#monitor = new PrinterMonitor({
      printers: config.printers.map((p) => ({ id: p.id, client: { getCapabilities: (signal?: AbortSignal) => this.#client(p.id).getCapabilities(signal) } })),
      intervalMs: config.queue.statusPollSeconds * 1000,
      emit: emit('printer.state'),
      clock,
      log,
    });
    this.#monitor.start();
    this.#schedulePrune(store, config.queue.keepFinishedHours * 3_600_000);
    for (const problem of printingConfigProblems(config)) log.warn({ problem }, `printing configuration: ${problem}`);
  }

  async stop(): Promise<void> {
    if (this.#pruneTimer) this.#deps.clock.clearTimeout(this.#pruneTimer);
    this.#pruneTimer = undefined;
    await this.#queue?.stop();
    await this.#monitor?.stop();
    for (const c of this.#clients.values()) c.close();
    this.#clients = new Map();
    this.#broken = new Map();
    this.#queue = undefined;
    this.#monitor = undefined;
    this.#store = undefined;
  }

  status(): Record<string, unknown> {
    const jobs: Record<string, number> = {};
    for (const j of this.#store?.all() ?? []) jobs[j.state] = (jobs[j.state] ?? 0) + 1;
    const config = this.#config;
    return {
      printers: config?.printers.length ?? 0,
      mapped: Object.values(config?.documentTypes ?? {}).filter((m) => m.printer !== '').length,
      jobs,
      warnings: this.warnings().map((w) => `${w.docType} → ${w.printerId}: ${w.message}`),
      problems: config ? printingConfigProblems(config) : [],
    };
  }

  healthcheck(): HealthReport {
    const config = this.#config;
    if (!config) return { level: 'ok' };
    const reasons: string[] = [...printingConfigProblems(config)];
    for (const w of this.warnings()) reasons.push(`${w.docType} → ${w.printerId}: ${w.message}`);
    const waiting = new Set((this.#store?.all() ?? []).filter((j) => !TERMINAL_STATES.has(j.state)).map((j) => j.printerId));
    for (const p of config.printers) {
      const o = this.#monitor?.observation(p.id);
      const broken = this.#broken.get(p.id);
      if (broken !== undefined) reasons.push(`printer ${p.id} cannot be used: ${broken}`);
      else if (o && !o.reachable && waiting.has(p.id)) reasons.push(`printer ${p.id} is not reachable and has jobs waiting`);
      // Paper out, jam, door open, offline, no toner stop printing whatever severity suffix the printer uses (ippeveprinter: media-empty-warning).
      const blocking = o?.reachable ? (o.capabilities?.status.problems ?? []).filter((x) => x.severity !== 'report' && STOPPING.has(x.kind)) : [];
      if (blocking.length > 0) reasons.push(`printer ${p.id}: ${blocking.map((x) => x.kind).join(', ')}`);
    }
    return reasons.length === 0 ? { level: 'ok' } : { level: 'degraded', reason: reasons.slice(0, 3).join('; ') + (reasons.length > 3 ? ` (+${reasons.length - 3})` : '') };
  }

  /** Mapping problems against the capabilities last read from each printer. */
  warnings(): MappingWarning[] {
    const config = this.#config;
    if (!config) return [];
    return config.printers.flatMap((p) => {
      const caps = this.#monitor?.observation(p.id)?.capabilities;
      return caps ? checkPrinterMappings(config, p.id, caps) : [];
    });
  }

  commands(): CommandTable {
    return printingCommands({
      config: () => this.#running().config,
      queue: () => this.#running().queue,
      store: () => this.#running().store,
      monitor: () => this.#running().monitor,
      hasClient: (id) => this.#clients.has(id),
      warnings: () => this.warnings(),
      secrets: this.secrets,
      boxId: this.#deps.boxId,
      clock: this.#deps.clock,
      listWaitMs: LIST_WAIT_MS,
      discover: this.#deps.discover ?? discoverPrinters,
      passwordChanged: (id) => this.#replaceClient(id),
    });
  }

  #running(): { config: PrintingConfig; queue: PrintQueue; store: JobStore; monitor: PrinterMonitor } {
    if (!this.#config || !this.#queue || !this.#store || !this.#monitor) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'printing is not running');
    return { config: this.#config, queue: this.#queue, store: this.#store, monitor: this.#monitor };
  }

  #client(id: string): JobPrinter & Pick<IppClient, 'getCapabilities'> {
    const c = this.#clients.get(id);
    if (!c) throw new PraxisboxError(ErrorCode.InvalidConfig, `printer ${id} is misconfigured (see the box log)`);
    return c;
  }

  /** Finished records go after keepFinishedHours while the agent runs for weeks, not only at start. */
  #schedulePrune(store: JobStore, keepMs: number): void {
    this.#pruneTimer = this.#deps.clock.setTimeout(() => {
      void store
        .prune(this.#deps.clock.now(), keepMs)
        .catch((err: unknown) => this.#deps.log.warn({ err }, `finished print jobs could not be pruned: ${describeError(err)}`))
        .finally(() => {
          if (this.#store === store) this.#schedulePrune(store, keepMs);
        });
    }, PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref?.();
  }

  /** A configured printer without a client: every request fails retryably with the reason, so its jobs wait for a fixed configuration until their deadline. */
  #brokenPrinter(id: string): JobPrinter | undefined {
    const why = this.#broken.get(id);
    if (why === undefined) return undefined;
    const fail = async (): Promise<never> => {
      throw new PrintError('unavailable', `printer ${id} cannot be used: ${why}`);
    };
    return { printJob: fail, getJob: fail, getJobs: fail, cancelJob: fail };
  }

  async #replaceClient(id: string): Promise<void> {
    const p = this.#config?.printers.find((x) => x.id === id);
    if (!p) return;
    const fresh = await this.#buildClient(p);
    this.#clients.get(id)?.close();
    this.#clients.set(id, fresh);
    this.#broken.delete(id);
  }

  async #buildClient(p: PrinterConfig): Promise<IppClient> {
    const password = p.username !== '' ? await this.secrets.get(p.id) : undefined;
    if (p.username !== '' && password === undefined) this.#deps.log.warn({ printerId: p.id }, `printer ${p.id} has a user but no password (printers.set-password)`);
    const printer: PrinterEndpoint = {
      uri: p.uri,
      ...(p.uri.startsWith('ipps:') ? { tls: await trustOf(p) } : {}),
      ...(p.username !== '' ? { auth: { username: p.username, password: password ?? '' } } : {}),
    };
    return new IppClient({ printer, log: this.#deps.log.child({ printerId: p.id }), clock: this.#deps.clock, ...(this.#deps.timeouts ? { timeouts: this.#deps.timeouts } : {}) });
  }
}

async function trustOf(p: PrinterConfig): Promise<TlsTrust> {
  if (p.certSha256.length > 0) return { kind: 'pinned', sha256: p.certSha256 };
  if (p.caFile !== '') {
    const ca = await fs.readFile(p.caFile).catch((err: NodeJS.ErrnoException) => {
      throw new PraxisboxError(ErrorCode.InvalidConfig, `CA file of printer ${p.id} cannot be read (${err.code ?? 'error'})`);
    });
    return { kind: 'ca', ca, ...(p.serverName !== '' ? { serverName: p.serverName } : {}) };
  }
  return { kind: 'system' };
}
