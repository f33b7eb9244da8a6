// A whole agent from the build, importing GDT results, for the kill -9 test: prints `S` once started
// and `A <seq> <type>` whenever an event is durable. MODE `random`: the parent kills it with SIGKILL
// at a random moment. Otherwise it kills itself at the K-th `gdt.result` append: `before-append`
// (registry says pending, nothing appended), `after-append` (appended, registry still pending),
// `after-append-soon` (a few ms later: registry done, or moving to archive).
import { Agent } from '../../dist/agent/main.js';
import { resolvePaths } from '../../dist/agent/core/paths.js';
import { Writable } from 'node:stream';

const [dataDir, mode = 'random', k = '1'] = process.argv.slice(2);
const paths = resolvePaths({ env: { PRAXISBOX_DATA_DIR: dataDir }, uid: 1000, homeDir: dataDir });
const agent = await Agent.create({
  paths,
  version: 'gdt-crash-test',
  logLevel: 'info',
  logDestination: new Writable({ write: (c, _e, cb) => (process.stderr.write(c), cb()) }),
  // Nothing ever acknowledges: every event stays in the outbox for the parent to count.
  env: { PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0', PRAXISBOX_MODULES_DISABLED: 'cards', PRAXISBOX_CLOUD_URL: 'mqtt://127.0.0.1:9' },
});
if (mode !== 'random') {
  const real = agent.outbox.append.bind(agent.outbox);
  // SIGKILL to oneself lands a moment later; blocking the thread meanwhile keeps the next step from running.
  const die = () => {
    process.kill(process.pid, 'SIGKILL');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5_000);
  };
  let n = 0;
  agent.outbox.append = async (type, data, options) => {
    if (type !== 'gdt.result' || ++n !== Number(k)) return real(type, data, options);
    if (mode === 'before-append') die();
    const event = await real(type, data, options);
    if (mode === 'after-append') die();
    setTimeout(die, Math.random() * 8);
    return event;
  };
}
agent.deps.bus.on('gdt-crash-test', 'outbox.appended', ({ seq, type }) => process.stdout.write(`A ${seq} ${type}\n`));
await agent.start();
process.stdout.write('S\n');
setInterval(() => undefined, 1_000);
