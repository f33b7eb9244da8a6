import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { cliPath, runCli } from '../helpers/agent-process.js';

/**
 * The development set-up the web UI tests use: no cloud URL (the link goes to the embedded broker),
 * `praxisbox cloud-sim watch` running as its own process, `praxisbox cloud-sim approve CODE` from a
 * third one.
 */
t.test('pairing against the embedded broker with cloud-sim as separate processes', async (t) => {
  const box = await startTestAgent();
  t.teardown(box.stop);
  const port = String(box.agent.localBroker.status()['port']);
  const env = { PRAXISBOX_MQTT_PORT: port };
  const run = (name: string, args: unknown = {}): Promise<unknown> => box.agent.deps.dispatcher.run(name, args, { source: 'web' });

  const sim = spawn(process.execPath, [cliPath, 'cloud-sim', 'watch', '--poll-interval', '1', '--code-ttl', '120'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sim.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  sim.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  t.teardown(async () => {
    if (sim.exitCode === null) {
      const gone = new Promise((r) => sim.once('close', r));
      sim.kill('SIGTERM');
      await gone;
    }
  });
  await eventually('cloud-sim ready', () => out.includes('cloud-sim ready'), 20_000);

  const started = (await run('cloud.pair.start')) as { userCode: string; state: string };
  t.equal(started.state, 'pending');
  await eventually('the simulator lists the request', () => out.includes(`pairing ${started.userCode}`));
  const listed = await runCli(['cloud-sim', 'pairings'], env);
  t.equal(listed.code, 0, listed.stderr);
  t.match(JSON.parse(listed.stdout), { pairings: [{ userCode: started.userCode, boxId: box.boxId, phase: 'pending' }], unpaired: [] });

  const approved = await runCli(['cloud-sim', 'approve', started.userCode, '--account-name', 'Praxis Nord'], env);
  t.equal(approved.code, 0, approved.stderr);
  await eventually('paired', async () => ((await run('cloud.pair.status')) as { state: string }).state === 'paired');
  t.match(await run('cloud.pair.status'), { state: 'paired', account: { name: 'Praxis Nord' } });
  t.match(await run('cloud.status'), { pairing: { state: 'paired' } });
  await eventually('the link is back', () => box.agent.cloud.status()['link'] === 'connected');

  const creds = JSON.parse(await fs.readFile(path.join(box.agent.deps.paths.cloudDir, 'credentials.json'), 'utf8')) as { password: string };
  t.notOk(box.logText().includes(creds.password), 'the password never appears in the agent log');
  t.notOk(out.includes(creds.password), 'nor in the simulator\'s output');

  const unknown = await runCli(['cloud-sim', 'deny', 'ZZZZ-ZZZZ'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /PAIRING_UNKNOWN_CODE/);

  t.same(await run('cloud.unpair', { confirm: true }), { state: 'unpaired', cloudNotified: true });
  const after = await runCli(['cloud-sim', 'pairings'], env);
  t.match(JSON.parse(after.stdout), { pairings: [{ userCode: started.userCode, phase: 'consumed' }], unpaired: [box.boxId] }, 'the running simulator heard of the unpairing; the code is used up');
  t.match(await run('cloud.pair.status'), { state: 'unpaired' });
});

t.test('approve with no cloud-sim running says so', async (t) => {
  const box = await startTestAgent();
  t.teardown(box.stop);
  const r = await runCli(['cloud-sim', 'approve', 'BCDF-GHJK'], { PRAXISBOX_MQTT_PORT: String(box.agent.localBroker.status()['port']) });
  t.equal(r.code, 1);
  t.match(r.stderr, /no cloud simulator answered/);
});
