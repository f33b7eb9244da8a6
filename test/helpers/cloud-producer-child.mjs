// A whole agent (from the build) that produces events as fast as the outbox takes them, for the
// cloud crash test: prints `A seq id` once an append is durable. The parent kills it with SIGKILL.
import { Agent } from '../../dist/agent/main.js';
import { resolvePaths } from '../../dist/agent/core/paths.js';
import { Writable } from 'node:stream';

const [dataDir, cloudUrl, produce] = process.argv.slice(2);
const paths = resolvePaths({ env: { PRAXISBOX_DATA_DIR: dataDir }, uid: 1000, homeDir: dataDir });
const agent = await Agent.create({
  paths,
  version: 'crash-test',
  logLevel: 'error',
  logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
  env: { PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0', PRAXISBOX_MODULES_DISABLED: 'cards', PRAXISBOX_CLOUD_URL: cloudUrl },
});
await agent.start();
process.stdout.write('S\n');
let n = 0;
for (let i = 0; i < Number(produce); i++) {
  const e = await agent.outbox.append('crash.event', { n: n++ });
  process.stdout.write(`A ${e.seq} ${e.id}\n`);
  if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write('D\n');
setInterval(() => undefined, 1_000);
