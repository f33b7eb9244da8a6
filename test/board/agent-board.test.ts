import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { callAgent } from '../../agent/control/control-client.js';
import { resolvePaths } from '../../agent/core/paths.js';
import type { AgentStatus } from '../../agent/core/system-module.js';
import { startAgent } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventually } from './driver-contract.js';
import { fakeGpiod } from './fake-gpiod.js';

const COLOUR = { ok: '17=0 27=1 22=0', degraded: '17=1 27=1 22=0', fault: '17=1 27=0 22=0' } as const;

t.test('the real agent: LED shows its overall health, the button identifies, a factory reset restarts with 75', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-agent-board-');
  t.teardown(cleanup);
  const fake = await fakeGpiod();
  t.teardown(() => fake.cleanup());
  const paths = resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir });
  await writeFile(paths.configFile, JSON.stringify({ version: 1, board: { driver: 'gpio', gpio: { chip: 'gpiochip0', blue: 22 } } }));
  await mkdir(path.join(dir, 'web'));
  await writeFile(path.join(dir, 'web', 'users.json'), '{}');
  const agent = await startAgent({ PRAXISBOX_DATA_DIR: dir, PATH: fake.env['PATH']!, FAKE_GPIOD_DIR: fake.dir });
  t.teardown(async () => {
    if (agent.proc.exitCode === null) await agent.stop();
  });

  const status = (await callAgent(paths.controlSocket, 'status', {})) as { status: 'ok'; data: AgentStatus };
  t.equal(status.status, 'ok');
  const health = status.data.health;
  t.match(status.data.modules.find((m) => m.name === 'board'), { state: 'running', details: { driver: 'gpio' } });
  const liveLeds = async (): Promise<string> => {
    const sets = (await fake.calls()).filter((c) => c.tool === 'gpioset' && c.args[0] === '--mode=signal');
    return sets.at(-1)?.args.slice(2).join(' ') ?? '';
  };
  await eventually(`LED ${health}`, liveLeds, (l) => l === COLOUR[health]);
  t.pass(`the LED shows ${health}, the health \`praxisbox status\` reports`);

  // A short press on the real monitor pipe: pull-up button, pressed = 0.
  await fake.edge(0);
  await new Promise((r) => setTimeout(r, 150));
  await fake.edge(1);
  const identify = await eventually('identify', () => callAgent(paths.controlSocket, 'board.status', {}), (r) => r.status === 'ok' && (r.data as { led: string }).led === 'identify');
  t.match(identify, { status: 'ok', data: { driver: 'gpio', led: 'identify' } });
  await eventually('colour cycle', async () => new Set((await fake.calls()).filter((c) => c.args[0] === '--mode=signal').map((c) => c.args.slice(2).join(' '))), (s) => s.has('17=0 27=0 22=1'));
  t.match(agent.output(), /button pressed: identify/);

  const reset = await callAgent(paths.controlSocket, 'box.factory-reset', { confirm: true });
  t.match(reset, { status: 'ok', data: { removed: ['config.json', 'cloud', 'web'], restarting: true } });
  t.equal(await agent.exited, 75, 'exit code 75: the service manager starts the agent again');
  t.notOk(existsSync(paths.configFile), 'configuration removed');
  t.notOk(existsSync(paths.cloudDir), 'cloud state removed, also what the cloud link wrote while stopping');
  t.ok(existsSync(paths.identityFile) && existsSync(paths.secretFile), 'identity and device secret kept');
  t.ok(existsSync(paths.outboxDir), 'outbox kept');
  const last = (await fake.calls()).filter((c) => c.tool === 'gpioset').at(-1);
  t.same(last?.args, ['--mode=exit', 'gpiochip0', '17=0', '27=0', '22=0'], 'LED dark when the agent stops');
});
