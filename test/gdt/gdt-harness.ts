import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FileOutbox } from '../../agent/outbox/file-outbox.js';
import { systemClock } from '../../agent/core/clock.js';
import { GdtModule } from '../../agent/gdt/gdt-module.js';
import { gdtConfig, type GdtConfig } from '../../agent/gdt/gdt-config.js';
import { writeGdt, type GdtRecord } from '../../agent/gdt/codec/index.js';
import type { Outbox, OutboxEvent } from '../../agent/outbox/outbox-event.js';
import { captureLog } from '../helpers/quiet-log.js';
import { tempDir } from '../helpers/fixtures.js';

/** A GDT module on temp folders with a real file outbox, its log captured: the device-folder tests' bench. */
export interface GdtHarness {
  root: string;
  stateDir: string;
  outbox: FileOutbox;
  module: GdtModule;
  logText: () => string;
  /** Every event in the outbox of `type` (nothing acknowledges them here). */
  events: (type?: string) => Promise<OutboxEvent[]>;
  run: (command: string, args: unknown) => Promise<unknown>;
  restart: (config?: unknown) => Promise<void>;
  stop: () => Promise<void>;
  config: GdtConfig;
}

export interface HarnessOptions {
  config?: unknown;
  /** Wraps the outbox (to inject failures). */
  wrapOutbox?: (outbox: Outbox) => Outbox;
  outboxMaxBytes?: number;
  deviceRetryMs?: number;
}

export const FAST = { stableMs: 60, pollIntervalMs: 100, incompleteWaitMs: 600, attachmentWaitMs: 800 };

export async function startGdt(options: HarnessOptions = {}): Promise<GdtHarness> {
  const { dir, cleanup } = await tempDir('praxisbox-gdt-');
  const root = path.join(dir, 'gdt');
  const stateDir = path.join(dir, 'state');
  await fs.mkdir(root, { recursive: true });
  const captured = captureLog('debug');
  const outbox = await FileOutbox.open({ dir: path.join(dir, 'outbox'), maxBytes: options.outboxMaxBytes ?? 256 * 1024 * 1024, segmentBytes: 8 * 1024 * 1024, clock: systemClock, log: captured.log });
  let config = gdtConfig(options.config ?? {});
  const make = (): GdtModule =>
    new GdtModule({
      config: () => config,
      gdtRoot: root,
      stateDir,
      outbox: options.wrapOutbox ? options.wrapOutbox(outbox) : outbox,
      clock: systemClock,
      log: captured.log,
      deviceRetryMs: options.deviceRetryMs ?? 200,
    });
  const harness: GdtHarness = {
    root,
    stateDir,
    outbox,
    module: make(),
    config,
    logText: captured.text,
    events: async (type) => (await outbox.pending(0, 100_000)).filter((e) => type === undefined || e.type === type),
    run: async (command, args) => {
      const spec = harness.module.commands()[command];
      if (spec === undefined) throw new Error(`no command ${command}`);
      return spec.handler(args, { source: 'internal' });
    },
    restart: async (next) => {
      await harness.module.stop();
      if (next !== undefined) config = gdtConfig(next);
      harness.config = config;
      harness.module = make();
      await harness.module.start();
    },
    stop: async () => {
      await harness.module.stop();
      await outbox.close();
      await cleanup();
    },
  };
  await harness.module.start();
  return harness;
}

/** Polls until `check` holds (fails the test with `what` after the timeout). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A 6310 result record from a device, with optional attachment paths (6303 PDF + 6305). */
export function resultRecord(opts: { patient?: string; test?: string; attachments?: string[]; receiver?: string; charset?: string; extra?: Array<[string, string]> } = {}): GdtRecord {
  const fields: Array<{ id: string; value: string }> = [
    { id: '8000', value: '6310' },
    { id: '8315', value: opts.receiver ?? 'PRAXBOX' },
    { id: '8316', value: 'EKG_DEV' },
    { id: '9206', value: opts.charset ?? '3' },
    { id: '9218', value: '02.10' },
    { id: '3000', value: opts.patient ?? '4711' },
    { id: '3101', value: 'Prüfmann' },
    { id: '3102', value: 'Jürgen' },
    { id: '3103', value: '01021960' },
    { id: '8402', value: opts.test ?? 'EKG01' },
    { id: '6200', value: '15012024' },
    { id: '6220', value: 'Sinusrhythmus, normaler Befund' },
    { id: '8410', value: 'HF' },
    { id: '8411', value: 'Herzfrequenz' },
    { id: '8420', value: '72' },
    { id: '8421', value: '/min' },
  ];
  for (const p of opts.attachments ?? []) fields.push({ id: '6303', value: 'PDF' }, { id: '6304', value: 'Ruhe-EKG' }, { id: '6305', value: p });
  for (const [id, value] of opts.extra ?? []) fields.push({ id, value });
  return { fields };
}

export function resultBytes(opts: Parameters<typeof resultRecord>[0] = {}): Buffer {
  return writeGdt([resultRecord(opts)], { charset: 'iso-8859-1' });
}

/** Bytes that start like a PDF (the content does not matter, only that it arrives unchanged). */
export function fakePdf(size: number): Buffer {
  const body = randomBytes(size);
  Buffer.from('%PDF-1.4\n').copy(body);
  return body;
}

/** Writes `name` the way a careful device does: temp name, then rename into place. */
export async function dropFile(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = path.join(dir, `.${name}.${randomBytes(3).toString('hex')}.part`);
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, path.join(dir, name));
}

export const PATIENT = { number: '4711', surname: 'Prüfmann', firstName: 'Jürgen', birthDate: '1960-02-01', sex: 'male' as const };
