import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/fixtures.js';
import { runCli, startAgent } from '../helpers/agent-process.js';

t.test('version, help and usage errors', async (t) => {
  const pkg = JSON.parse(await fs.readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const v = await runCli(['--version'], {});
  t.equal(v.code, 0);
  t.equal(v.stdout.trim(), pkg.version);
  const help = await runCli(['--help'], {});
  t.equal(help.code, 0);
  for (const cmd of ['start', 'status', 'config']) t.match(help.stdout, new RegExp(`\\n  ${cmd}\\b`));
  for (const sub of [['start'], ['status'], ['config'], ['config', 'get'], ['config', 'set'], ['config', 'validate']]) {
    const r = await runCli([...sub, '--help'], {});
    t.equal(r.code, 0, `${sub.join(' ')} --help`);
    t.match(r.stdout, /Usage: praxisbox/);
  }
  const bad = await runCli(['frobnicate'], {});
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown command 'frobnicate'/);
});

t.test('status without a running agent says so and exits 3', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const r = await runCli(['status'], { PRAXISBOX_DATA_DIR: dir });
  t.equal(r.code, 3);
  t.match(r.stderr, /the agent is not running/);
});

t.test('start with no config and no hardware, status, config through the running agent, clean SIGTERM', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const env = { PRAXISBOX_DATA_DIR: dir };
  const agent = await startAgent(env);
  t.teardown(() => agent.proc.kill('SIGKILL'));

  const status = await runCli(['status', '--json'], env);
  t.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { boxId: string; health: string; needsSetup: boolean; modules: Array<{ name: string; state: string; health: { level: string; reason?: string } }> };
  t.match(s.boxId, /^pbx-[0-9a-z]{12}$/);
  t.same(s.modules.map((m) => [m.name, m.state]), [['config', 'running'], ['identity', 'running'], ['outbox', 'running'], ['system', 'running'], ['control', 'running'], ['local-broker', 'running'], ['cloud', 'running'], ['pairing', 'running'], ['printing', 'running'], ['gdt', 'running'], ['cards', 'disabled'], ['web', 'running']]);
  t.equal(s.needsSetup, true);
  t.equal(s.health, 'degraded');
  t.match(s.modules[0]?.health.reason ?? '', /needs setup/);

  const human = await runCli(['status'], env);
  t.match(human.stdout, /Health: DEGRADED \(yellow\) {2}— needs setup/);
  t.match(human.stdout, /outbox\s+running\s+ok\s+\[depth 0, 0 bytes\]/);

  const set = await runCli(['config', 'set', 'box.name', 'Praxis am Markt'], env);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /saved \(changed: box\)/);
  const get = await runCli(['config', 'get', 'box.name'], env);
  t.equal(JSON.parse(get.stdout), 'Praxis am Markt');
  const wrong = await runCli(['config', 'set', 'outbox.maxBytes', '5'], env);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /\/outbox\/maxBytes: Expected integer to be greater or equal to 1048576/);
  const after = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { health: string; needsSetup: boolean };
  t.equal(after.needsSetup, false);
  t.equal(after.health, 'ok');

  const second = await runCli(['start'], env);
  t.equal(second.code, 1, 'a second agent on the same data dir refuses to start');
  t.match(second.stderr, /another agent \(pid \d+\) is already running/);

  const t0 = Date.now();
  const code = await agent.stop('SIGTERM');
  t.equal(code, 0, 'clean exit on SIGTERM');
  t.ok(Date.now() - t0 < 5_000, 'stopped quickly');
  t.match(agent.output(), /"msg":"agent stopped"/);
  const left = await fs.readdir(dir);
  t.notOk(left.includes('agent.lock'), 'lock released');
  t.notOk((await fs.readdir(path.join(dir, 'run'))).includes('control.sock'), 'socket removed');
  for (const f of ['config.json', 'identity.json', 'device-secret']) {
    t.equal((await fs.stat(path.join(dir, f))).mode & 0o777, 0o600, `${f} is 0600`);
  }
  const secret = (await fs.readFile(path.join(dir, 'device-secret'), 'utf8')).trim();
  t.notOk(agent.output().includes(secret), 'device secret never logged');

  const offline = await runCli(['config', 'get', 'box.name'], env);
  t.equal(JSON.parse(offline.stdout), 'Praxis am Markt', 'config get works without the agent');
});

t.test('SIGINT stops as cleanly as SIGTERM; a killed agent leaves nothing that blocks the next start', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const env = { PRAXISBOX_DATA_DIR: dir };
  const first = await startAgent(env);
  t.equal(await first.stop('SIGKILL'), null);
  const second = await startAgent(env);
  t.equal((await runCli(['status'], env)).code, 0, 'stale socket and lock taken over');
  t.equal(await second.stop('SIGINT'), 0);
});

t.test('a corrupt config file: kept aside, agent runs on defaults and says so', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const env = { PRAXISBOX_DATA_DIR: dir };
  await fs.writeFile(path.join(dir, 'config.json'), '{"log": {"level": "debug"},');
  const agent = await startAgent(env);
  t.teardown(() => agent.proc.kill('SIGKILL'));
  t.match(agent.output(), /CONFIGURATION REJECTED: Corrupt: configuration file is not valid JSON/);
  const s = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { needsSetup: boolean; modules: Array<{ name: string; health: { reason?: string } }> };
  t.equal(s.needsSetup, true);
  t.match(s.modules.find((m) => m.name === 'config')?.health.reason ?? '', /configuration file rejected/);
  const kept = (await fs.readdir(dir)).filter((f) => f.startsWith('config.json.rejected-'));
  t.equal(kept.length, 1);
  t.equal(await fs.readFile(path.join(dir, kept[0] as string), 'utf8'), '{"log": {"level": "debug"},');
  t.equal(await agent.stop(), 0);
});

t.test('config validate checks a file offline and lists every problem', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'c.json');
  await fs.writeFile(file, JSON.stringify({ version: 1, log: { level: 'loud' }, outbox: { maxBytes: -1 }, x: 1 }));
  const bad = await runCli(['config', 'validate', file], {});
  t.equal(bad.code, 1);
  t.match(bad.stderr, /\/log\/level: must be one of/);
  t.match(bad.stderr, /\/outbox\/maxBytes: Expected integer to be greater or equal/);
  t.match(bad.stderr, /\/x: unknown setting/);
  await fs.writeFile(file, JSON.stringify({ box: { name: 'Praxis' } }));
  const good = await runCli(['config', 'validate', file], {});
  t.equal(good.code, 0);
  t.match(good.stdout, /valid/);
  const missing = await runCli(['config', 'validate', path.join(dir, 'nope.json')], {});
  t.equal(missing.code, 1);
  t.match(missing.stderr, /ENOENT/);
});
