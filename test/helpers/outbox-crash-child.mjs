// Child process for the outbox crash test: appends events as fast as it can (many in flight, so
// group commit batches them), acknowledges some of them like a draining cloud link would, and
// reports on stdout what the outbox promised: `A seq id` once an append resolved (durable),
// `T seq` just before it asks for an ack. The parent kills it with SIGKILL at a random moment.
// Plain JS importing the build (npm test builds before running tap), so it starts fast.
import { FileOutbox } from '../../dist/agent/outbox/file-outbox.js';
import { createLogger } from '../../dist/agent/core/logger.js';
import { systemClock } from '../../dist/agent/core/clock.js';
import { Writable } from 'node:stream';

const [dir, segmentBytes] = process.argv.slice(2);
const log = createLogger({ level: 'error', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const box = await FileOutbox.open({ dir, maxBytes: 256 * 1024 * 1024, segmentBytes: Number(segmentBytes), clock: systemClock, log });
const out = (line) => process.stdout.write(line + '\n');
out(`R ${box.stats().lastSeq}`);

let cursor = 0;
async function drainSome() {
  const batch = await box.pending(cursor, 20);
  for (const e of batch) {
    cursor = e.seq;
    if (Math.random() < 0.6) {
      out(`T ${e.seq}`);
      await box.ack(e.seq);
    }
  }
}

let n = 0;
for (;;) {
  const inflight = [];
  for (let i = 0; i < 64; i++) {
    const size = Math.floor(Math.random() * 400);
    inflight.push(box.append('crash.test', { n: n++, pad: 'x'.repeat(size) }).then((e) => out(`A ${e.seq} ${e.id}`)));
  }
  await Promise.all(inflight);
  await drainSome();
}
