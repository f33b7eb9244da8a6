import path from 'node:path';
import type { Clock, Timer } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import { describeError, ErrorCode, PraxisboxError, notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Outbox } from '../outbox/outbox-event.js';
import { deviceLayout, gdtConfigProblems } from './device-layout.js';
import type { GdtConfig } from './gdt-config.js';
import { GdtDevice } from './gdt-device.js';
import { gdtCommands } from './gdt-commands.js';
import { HashRegistry } from './hash-registry.js';
import { checkArchiveName, type ReimportResult } from './reimport.js';
import { checkGdtSection, type GdtConfigCheck } from './config-check.js';

export interface GdtModuleDeps {
  config: () => GdtConfig;
  /** Base of relative device folders (PRAXISBOX_GDT_ROOT). */
  gdtRoot: string;
  /** Where the hash registry and order queues live (box-private, not shared with devices). */
  stateDir: string;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  bus?: EventBus<AgentEvents>;
  /** How soon a device whose folders failed is tried again (default 30 s). */
  deviceRetryMs?: number;
}

interface Slot {
  device: GdtDevice;
  reason?: string;
  retry?: Timer;
}

/**
 * GDT device folders: orders out (6302/6303/6301 files), results in (`gdt.result` events with
 * their PDFs). Each device runs on its own: one whose folders are missing is reported with the
 * reason and retried, the others keep working. Configuration problems that concern the whole
 * section (two devices with one id or one result folder) keep the module from starting.
 */
export class GdtModule implements AgentModule {
  readonly name = 'gdt';
  readonly configSections = ['gdt'];
  readonly #deps: GdtModuleDeps;
  readonly #slots = new Map<string, Slot>();
  #registry: HashRegistry | undefined;
  #stopped = true;

  constructor(deps: GdtModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { config, gdtRoot, stateDir, clock, log, bus } = this.#deps;
    const cfg = config();
    const problems = gdtConfigProblems(cfg, gdtRoot);
    if (problems.length > 0) throw new PraxisboxError(ErrorCode.InvalidConfig, `gdt configuration: ${problems.join('; ')}`);
    this.#stopped = false;
    this.#registry = await HashRegistry.open({ file: path.join(stateDir, 'registry.jsonl'), log, now: () => clock.now() });
    for (const device of cfg.devices.filter((d) => d.enabled)) {
      const gdtDevice = new GdtDevice({
        device,
        layout: deviceLayout(device, gdtRoot),
        settings: () => this.#deps.config(),
        registry: this.#registry,
        outbox: this.#deps.outbox,
        clock,
        log,
        stateDir,
        onFailure: (reason) => this.#failed(device.id, reason),
      });
      this.#slots.set(device.id, { device: gdtDevice });
    }
    await Promise.all([...this.#slots.keys()].map((id) => this.#startDevice(id)));
    bus?.on('gdt', 'outbox.pressure', ({ full }) => {
      if (!full) for (const slot of this.#slots.values()) slot.device.outboxRelief();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#deps.bus?.offOwner('gdt');
    for (const slot of this.#slots.values()) {
      if (slot.retry !== undefined) this.#deps.clock.clearTimeout(slot.retry);
      slot.device.stop();
    }
    // A file in the middle of its durable steps is let finish (bounded); the timer must not keep the process alive.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#slots.values()].map((s) => s.device.idle())),
      new Promise((r) => {
        timer = setTimeout(r, 5_000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    this.#slots.clear();
    await this.#registry?.close();
    this.#registry = undefined;
  }

  async #startDevice(id: string): Promise<void> {
    const slot = this.#slots.get(id);
    if (slot === undefined || this.#stopped) return;
    slot.retry = undefined;
    try {
      await slot.device.start();
      if (slot.reason !== undefined) this.#deps.log.info({ deviceId: id }, `GDT device ${id} is available again`);
      delete slot.reason;
    } catch (err) {
      slot.device.stop();
      try {
        await slot.device.open();
      } catch (openErr) {
        this.#deps.log.error({ deviceId: id }, `GDT device ${id}: ${describeError(openErr)}`);
      }
      this.#failed(id, err instanceof PraxisboxError ? err.message : describeError(err));
    }
  }

  #failed(id: string, reason: string): void {
    const slot = this.#slots.get(id);
    if (slot === undefined || this.#stopped) return;
    if (slot.reason !== reason) this.#deps.log.warn({ deviceId: id }, `GDT device ${id} unavailable: ${reason}`);
    slot.reason = reason;
    if (slot.retry !== undefined) return;
    slot.retry = this.#deps.clock.setTimeout(() => void this.#startDevice(id), this.#deps.deviceRetryMs ?? 30_000);
    slot.retry.unref?.();
  }

  /** A device by id, for commands; NotFound names the id (configuration, not patient data). */
  device(id: string): GdtDevice {
    const slot = this.#slots.get(id);
    if (slot === undefined) throw notFound(`no enabled GDT device with id ${JSON.stringify(id)}`);
    return slot.device;
  }

  deviceConfig(id: string): GdtConfig['devices'][number] {
    const cfg = this.#deps.config().devices.find((d) => d.id === id && d.enabled);
    if (cfg === undefined) throw notFound(`no enabled GDT device with id ${JSON.stringify(id)}`);
    return cfg;
  }

  devices(): Array<Record<string, unknown>> {
    const running = [...this.#slots.values()].map((slot) => ({
      ...slot.device.view(),
      state: slot.device.running ? 'ok' : 'unavailable',
      ...(slot.reason !== undefined ? { reason: slot.reason } : {}),
    }));
    const disabled = this.#deps.config().devices.filter((d) => !d.enabled).map((d) => ({ id: d.id, name: d.name, state: 'disabled' }));
    return [...running, ...disabled];
  }

  async reimport(archiveFile: string, deviceId?: string): Promise<ReimportResult> {
    checkArchiveName(archiveFile);
    const candidates = deviceId !== undefined ? [this.device(deviceId)] : [...this.#slots.values()].map((s) => s.device);
    for (const device of candidates) {
      const result = await device.reimport(archiveFile);
      if (result !== undefined) {
        this.#deps.log.info({ deviceId: result.deviceId, file: archiveFile, from: result.from }, 'GDT file put back for re-import');
        return result;
      }
    }
    throw notFound('no file of that name in archive/ or quarantine/');
  }

  checkConfig(section: unknown): Promise<GdtConfigCheck> {
    return checkGdtSection(section, this.#deps.gdtRoot);
  }

  status(): Record<string, unknown> {
    return { devices: this.devices(), registryEntries: this.#registry?.size ?? 0 };
  }

  healthcheck(): HealthReport {
    const down = [...this.#slots.entries()].filter(([, s]) => s.reason !== undefined);
    if (down.length > 0) return { level: 'degraded', reason: down.map(([id, s]) => `device ${id}: ${s.reason ?? ''}`).join('; ') };
    const blocked = [...this.#slots.values()].filter((s) => (s.device.view()['results'] as { outboxBlocked?: boolean } | undefined)?.outboxBlocked === true);
    if (blocked.length > 0) return { level: 'degraded', reason: 'GDT results wait for room in the outbox' };
    return { level: 'ok' };
  }

  commands(): CommandTable {
    return gdtCommands(this);
  }
}
