import path from 'node:path';
import type { Clock, Timer } from '../core/clock.js';
import { describeError, ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Outbox } from '../outbox/outbox-event.js';
import { attachmentRoots } from './path-mapping.js';
import { realRoots } from './attachment-reader.js';
import type { DeviceLayout } from './device-layout.js';
import { sweepExpired } from './file-moves.js';
import { checkDeviceFolders } from './folder-check.js';
import { resolveWatchMode, watchFolder, type EffectiveWatchMode, type FolderWatch } from './folder-watch.js';
import type { GdtConfig, GdtDeviceConfig } from './gdt-config.js';
import type { HashRegistry } from './hash-registry.js';
import { OrderQueue } from './order-queue.js';
import { locateArchived, reimportFile, type ReimportResult } from './reimport.js';
import { ResultImporter } from './result-importer.js';

/**
 * One GDT device at run time: its order queue (usable even while its folders are missing — orders
 * wait durably), and, once its folders check out, the watchers, the result importer and the order
 * writer. A device whose folders fail is `unavailable` with the reason; the module retries it.
 */
export interface GdtDeviceDeps {
  device: GdtDeviceConfig;
  layout: DeviceLayout;
  settings: () => GdtConfig;
  registry: HashRegistry;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  stateDir: string;
  /** The folders failed at run time (watch error): the module restarts the device later. */
  onFailure: (reason: string) => void;
}

const SAFETY_SCAN_MS = 30_000;
const SWEEP_MS = 3_600_000;

export class GdtDevice {
  readonly #deps: GdtDeviceDeps;
  #orders: OrderQueue | undefined;
  #importer: ResultImporter | undefined;
  #watches: FolderWatch[] = [];
  #mode: { mode: EffectiveWatchMode; fsType?: string } | undefined;
  #notes: string[] = [];
  #pumpTimer: Timer | undefined;
  #sweepTimer: Timer | undefined;
  #pumping = false;
  #pumpAgain = false;
  #lastPumpError: string | undefined;
  #running = false;

  constructor(deps: GdtDeviceDeps) {
    this.#deps = deps;
  }

  get id(): string {
    return this.#deps.device.id;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Loads the durable order queue (needs only the state directory). */
  async open(): Promise<void> {
    this.#orders ??= await OrderQueue.open({
      file: path.join(this.#deps.stateDir, `${this.#deps.device.id}.orders.json`),
      layout: this.#deps.layout,
      device: this.#deps.device,
      now: () => this.#deps.clock.now(),
      log: this.#deps.log,
    });
  }

  orders(): OrderQueue {
    if (this.#orders === undefined) throw new PraxisboxError(ErrorCode.DeviceUnavailable, `device ${this.id}: order state not loaded`);
    return this.#orders;
  }

  /** Checks the folders and starts watching; throws DeviceUnavailable with the reason when they fail. */
  async start(): Promise<void> {
    const { layout } = this.#deps;
    await this.open();
    const check = await checkDeviceFolders(layout);
    this.#notes = check.notes;
    if (check.problems.length > 0) throw new PraxisboxError(ErrorCode.DeviceUnavailable, check.problems.join('; '));
    try {
      await this.#startWatching();
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  async #startWatching(): Promise<void> {
    const { layout, settings, clock, log, device } = this.#deps;
    const s = settings();
    this.#mode = await resolveWatchMode(layout.resultDir, s.watchMode);
    const importer = new ResultImporter({
      device,
      layout,
      settings,
      registry: this.#deps.registry,
      outbox: this.#deps.outbox,
      orders: this.orders(),
      roots: await realRoots(attachmentRoots(layout)),
      clock,
      log,
      onOrdersChanged: () => this.nudgeOrders(),
    });
    this.#importer = importer;
    const fail = (err: unknown): void => {
      const reason = `watching ${layout.resultDir} failed (${describeError(err)})`;
      this.stop();
      this.#deps.onFailure(reason);
    };
    const scan = (): void => {
      importer.scan().catch(fail);
      this.nudgeOrders();
    };
    this.#watches.push(
      watchFolder({ dir: layout.resultDir, mode: this.#mode.mode, pollIntervalMs: s.pollIntervalMs, safetyScanMs: SAFETY_SCAN_MS, clock, onName: (n) => {
        importer.touch(n);
        if (layout.orderDir === layout.resultDir) this.nudgeOrders();
      }, onScan: scan, onError: fail }),
    );
    if (layout.orderDir !== layout.resultDir) {
      const orderMode = (await resolveWatchMode(layout.orderDir, s.watchMode)).mode;
      this.#watches.push(
        watchFolder({ dir: layout.orderDir, mode: orderMode, pollIntervalMs: s.pollIntervalMs, safetyScanMs: SAFETY_SCAN_MS, clock, onName: () => this.nudgeOrders(), onScan: () => this.nudgeOrders(), onError: fail }),
      );
    }
    this.#running = true;
    await importer.scan();
    this.nudgeOrders();
    void this.#sweep();
    log.info({ deviceId: device.id, watchMode: this.#mode.mode, fsType: this.#mode.fsType, orderDir: layout.orderDir, resultDir: layout.resultDir }, `GDT device ${device.id} ready`);
  }

  stop(): void {
    this.#running = false;
    for (const w of this.#watches) w.stop();
    this.#watches = [];
    this.#importer?.stop();
    if (this.#pumpTimer !== undefined) this.#deps.clock.clearTimeout(this.#pumpTimer);
    if (this.#sweepTimer !== undefined) this.#deps.clock.clearTimeout(this.#sweepTimer);
    this.#pumpTimer = undefined;
    this.#sweepTimer = undefined;
  }

  /** Waits for a file in progress (bounded by the caller). */
  async idle(): Promise<void> {
    await this.#importer?.idle();
    while (this.#pumping) await new Promise((r) => setTimeout(r, 10));
  }

  outboxRelief(): void {
    this.#importer?.outboxRelief();
  }

  /** Writes what the order queue holds, now; while a file must wait, looks again every poll interval. */
  nudgeOrders(): void {
    if (!this.#running || this.#orders === undefined) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    if (this.#pumpTimer !== undefined) this.#deps.clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    const orders = this.#orders;
    void orders
      .pump()
      .then(
        (result) => {
          this.#lastPumpError = undefined;
          return result.waiting !== undefined;
        },
        (err: unknown) => {
          const reason = describeError(err);
          if (reason !== this.#lastPumpError) this.#deps.log.warn({ deviceId: this.id }, `GDT order files for device ${this.id} cannot be written: ${reason}`);
          this.#lastPumpError = reason;
          return true;
        },
      )
      .then((again) => {
        this.#pumping = false;
        if (!this.#running) return;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.nudgeOrders();
        } else if (again) {
          this.#pumpTimer = this.#deps.clock.setTimeout(() => this.nudgeOrders(), this.#deps.settings().pollIntervalMs);
        }
      });
  }

  async reimport(name: string): Promise<ReimportResult | undefined> {
    const from = await locateArchived(this.#deps.layout, name);
    if (from === undefined) return undefined;
    const importer = this.#importer;
    if (!this.#running || importer === undefined) throw new PraxisboxError(ErrorCode.DeviceUnavailable, `device ${this.id} is unavailable`);
    return reimportFile({ deviceId: this.id, layout: this.#deps.layout, registry: this.#deps.registry, markReimport: (n) => importer.markReimport(n), touch: (n) => importer.touch(n) }, name, from);
  }

  async #sweep(): Promise<void> {
    const { layout, settings, clock, log } = this.#deps;
    const s = settings();
    try {
      const archived = await sweepExpired(layout.archiveDir, clock.now(), s.archiveRetentionDays);
      const quarantined = await sweepExpired(layout.quarantineDir, clock.now(), s.quarantineRetentionDays);
      if (archived + quarantined > 0) log.info({ deviceId: this.id, archived, quarantined }, 'GDT retention: old files deleted');
    } catch (err) {
      log.warn({ deviceId: this.id }, `GDT retention sweep failed: ${describeError(err)}`);
    }
    if (!this.#running) return;
    this.#sweepTimer = clock.setTimeout(() => void this.#sweep(), SWEEP_MS);
    this.#sweepTimer.unref?.();
  }

  /** For `gdt.devices.list` and status: configuration and counters, no patient data. */
  view(): Record<string, unknown> {
    const { device, layout } = this.#deps;
    return {
      id: device.id,
      name: device.name,
      orderDir: layout.orderDir,
      resultDir: layout.resultDir,
      orderFileBase: layout.orderFileBase,
      fileNaming: device.fileNaming,
      charset: device.charset,
      testCodes: device.testCodes,
      ...(this.#mode !== undefined ? { watchMode: this.#mode.mode, ...(this.#mode.fsType !== undefined ? { fsType: this.#mode.fsType } : {}) } : {}),
      ...(this.#notes.length > 0 ? { notes: this.#notes } : {}),
      ...(this.#importer !== undefined ? { results: { ...this.#importer.stats } } : {}),
      ...(this.#orders !== undefined ? { orders: this.#orders.view() } : {}),
      ...(this.#lastPumpError !== undefined ? { orderProblem: this.#lastPumpError } : {}),
    };
  }
}
