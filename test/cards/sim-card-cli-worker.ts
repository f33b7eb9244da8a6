import { parentPort, workerData } from 'node:worker_threads';
import { runSimCard, type SimCardOptions } from '../../agent/cards/cards-cli.js';

// Runs `praxisbox sim card` in a worker: the virtual card must not share the event loop with the test's
// synchronous PC/SC calls (see agent/cards/sim/vpcd-card-thread.ts).
const port = parentPort;
if (port) {
  const abort = new AbortController();
  port.on('message', () => abort.abort());
  const write = (stream: 'stdout' | 'stderr') => ({ write: (s: string) => port.postMessage({ stream, s }) });
  void runSimCard(workerData as SimCardOptions, { stdout: write('stdout'), stderr: write('stderr'), signal: abort.signal }).then((code) => port.postMessage({ code }));
}
