// A whole agent from the build that queues print jobs, for the kill -9 test: prints `S` once
// started and `A jobId` once a job is accepted (durable). The parent kills it with SIGKILL.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { Agent } from '../../dist/agent/main.js';
import { resolvePaths } from '../../dist/agent/core/paths.js';

const [dataDir, pdfFiles, produce] = process.argv.slice(2);
const paths = resolvePaths({ env: { PRAXISBOX_DATA_DIR: dataDir }, uid: 1000, homeDir: dataDir });
const agent = await Agent.create({
  paths,
  version: 'print-crash-test',
  logLevel: 'error',
  logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
  env: { PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0', PRAXISBOX_MODULES_DISABLED: 'cards' },
});
await agent.start();
process.stdout.write('S\n');
const docs = pdfFiles.split(',').filter(Boolean).map((f) => fs.readFileSync(f).toString('base64'));
for (let i = 0; i < Number(produce); i++) {
  const reply = await agent.deps.dispatcher.run('print', { docType: 'au', pdf: docs[i % docs.length], jobName: `Crash ${i}` }, { source: 'internal' });
  process.stdout.write(`A ${reply.jobId}\n`);
}
process.stdout.write('D\n');
setInterval(() => undefined, 1_000);
