import fs from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from '../../agent/core/clock.js';
import { CommandDispatcher } from '../../agent/core/commands.js';
import { revealDeep } from '../../agent/core/patient-data.js';
import { PrintingModule } from '../../agent/printing/printing-module.js';
import { printingConfig } from '../../agent/printing/printing-config.js';
import type { PrintJobEvent } from '../../agent/printing/print-job.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';

/** A PrintingModule on a temp data dir with a recording outbox and a dispatcher (argument schemas apply). */
export interface PrintingUnderTest {
  module: PrintingModule;
  dir: string;
  events: Array<{ type: string; data: Record<string, unknown> }>;
  logText: () => string;
  run: (name: string, args: unknown) => Promise<Record<string, unknown>>;
  jobEvents: (jobId: string) => PrintJobEvent[];
  waitForJob: (jobId: string, states?: string[], timeoutMs?: number) => Promise<PrintJobEvent>;
  stop: () => Promise<void>;
}

export const FAST_QUEUE = { pollMs: 50, retryBaseMs: 100, retryMaxMs: 400, statusPollSeconds: 2 };

export async function startPrinting(config: unknown, opts: { dir?: string; boxId?: string } = {}): Promise<PrintingUnderTest> {
  const temp = opts.dir ? { dir: opts.dir, cleanup: async () => undefined } : await tempDir('praxisbox-printing-');
  const { log, text } = captureLog('debug');
  const events: PrintingUnderTest['events'] = [];
  const current = printingConfig(config);
  const module = new PrintingModule({
    config: () => current,
    outbox: {
      append: async (type, data) => {
        events.push({ type, data: JSON.parse(JSON.stringify(revealDeep(data))) as Record<string, unknown> });
        return { id: String(events.length), seq: events.length, type, ts: new Date().toISOString(), data };
      },
    },
    clock: systemClock,
    log,
    dir: path.join(temp.dir, 'printing'),
    spoolDir: path.join(temp.dir, 'spool', 'print'),
    boxId: () => opts.boxId ?? 'pbx-testbox00001',
    timeouts: { queryMs: 3_000, printMs: 20_000, idleMs: 3_000 },
  });
  const dispatcher = new CommandDispatcher({ log });
  dispatcher.register('printing', module.commands());
  await module.start();
  const jobEvents = (jobId: string): PrintJobEvent[] =>
    events.filter((e) => e.type === 'print.job' && e.data['jobId'] === jobId).map((e) => e.data as unknown as PrintJobEvent);
  let stopped = false;
  return {
    module,
    dir: temp.dir,
    events,
    logText: text,
    run: async (name, args) => (await dispatcher.run(name, args, { source: 'internal' })) as Record<string, unknown>,
    jobEvents,
    waitForJob: async (jobId, states = ['completed', 'failed', 'canceled'], timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = jobEvents(jobId).find((e) => states.includes(e.state));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`job ${jobId} did not reach ${states.join('/')}; events: ${jobEvents(jobId).map((e) => e.state).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await module.stop();
      await temp.cleanup();
    },
  };
}

export async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

export const b64 = (b: Buffer): string => b.toString('base64');
