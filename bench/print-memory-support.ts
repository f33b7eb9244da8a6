import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { IppClient, type PrintJobInput } from '../agent/printing/ipp-client.js';
import { pdfWithPages } from '../test/helpers/test-pdf.js';

/**
 * Child of bench/print.ts: prints one small job (so modules, sockets and caches exist), takes the
 * RSS as baseline, then sends the large PDF while sampling RSS every 10 ms: from its path (reused
 * buffers), then as a ReadStream. For scale, the growth of reading the same file into one Buffer.
 */
const [uri, file] = process.argv.slice(2);
if (!uri || !file || !process.send) throw new Error('usage: print-memory-support URI FILE (forked with IPC)');

const client = new IppClient({ printer: { uri } });
const warm = await client.printJob({ document: Readable.from([pdfWithPages(1)]) });
await client.waitForJob(warm.jobId, { pollMs: 20 });

const MB = 1024 * 1024;
const { size } = await fs.stat(file);

/** Peak RSS growth over the RSS just before, sampled every 10 ms, while one job is sent and completes. */
async function measure(document: PrintJobInput['document']): Promise<{ growthMB: number; uploadMs: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const t0 = Date.now();
  const job = await client.printJob({ document, documentLength: size });
  const uploadMs = Date.now() - t0;
  await client.waitForJob(job.jobId, { pollMs: 50 });
  peak = Math.max(peak, process.memoryUsage.rss());
  clearInterval(sampler);
  return { growthMB: Math.round(((peak - baseline) / MB) * 10) / 10, uploadMs };
}

// The file path first (the queue's way); the ReadStream after it, for comparison.
const { growthMB, uploadMs } = await measure({ path: file });
const stream = await measure((await fs.open(file)).createReadStream({ highWaterMark: 64 * 1024 }));

const before = process.memoryUsage.rss();
const whole = await fs.readFile(file);
const bufferedGrowthMB = Math.round(((process.memoryUsage.rss() - before) / MB) * 10) / 10;
client.close();
process.send({ growthMB, uploadMs, streamGrowthMB: stream.growthMB, bufferedGrowthMB, check: whole.length === size });
process.disconnect();
