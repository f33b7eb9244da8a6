import t, { type Test } from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { EventBus } from '../../agent/core/bus.js';
import type { AgentEvents } from '../../agent/core/events.js';
import type { HealthLevel, ModuleState } from '../../agent/core/module.js';
import { UpdateModule } from '../../agent/update/update-module.js';
import { UpdateSection, type UpdateConfig } from '../../agent/update/update-config.js';
import { ReleaseStore } from '../../agent/update/release-store.js';
import { readUpdateState, writeUpdateState, type UpdateState } from '../../agent/update/update-state.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { eventually } from '../helpers/test-agent.js';
import { fakeReleaseTree, install } from './release-fixture.js';

/** The module's start-up decisions and commit timer with a controllable health and clock (fast; the real thing is in update-agent.test.ts). */
async function setup(t: Test, state: Partial<UpdateState> | undefined, running: string, current: string) {
  const { dir, cleanup } = await tempDir('praxisbox-update-module-');
  t.teardown(cleanup);
  const appDir = path.join(dir, 'app');
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir);
  for (const v of ['1.0.0', '1.1.0']) await install(appDir, await fakeReleaseTree(path.join(dir, `src-${v}`), v), v, v === current);
  if (state) await writeUpdateState(dataDir, { from: '1.0.0', to: '1.1.0', stage: 'switched', attempts: 1, deadline: null, healthBefore: 'ok', reported: false, updatedAt: '', ...state });
  const log = captureLog();
  const h = {
    now: 1_000_000,
    health: 'ok' as HealthLevel,
    states: ['running'] as ModuleState[],
    outbox: [] as { type: string; data: Record<string, unknown> }[],
    outboxFails: false,
    restarts: [] as string[],
    progress: [] as string[],
  };
  const bus = new EventBus<AgentEvents>(log.log);
  bus.on('test', 'update.progress', ({ stage, version }) => void h.progress.push(`${stage}:${version}`));
  const mod = new UpdateModule({
    appDir,
    dataDir,
    version: running,
    config: () => ({ ...(Value.Default(UpdateSection, {}) as UpdateConfig), commitWithinSeconds: 30 }),
    outbox: {
      append: async (type, data) => {
        if (h.outboxFails) throw new Error('outbox full');
        h.outbox.push({ type, data: data as Record<string, unknown> });
        return { id: 'x', seq: h.outbox.length, type, ts: '', data };
      },
    },
    bus,
    clock: { now: () => h.now, setTimeout, clearTimeout: (x) => clearTimeout(x as NodeJS.Timeout) },
    log: log.log,
    keyring: () => ({ keys: [] }),
    status: async () => ({ health: h.health, modules: h.states.map((state) => ({ state })) }),
    requestRestart: (reason) => void h.restarts.push(reason),
    checkIntervalMs: 10,
  });
  t.teardown(() => mod.stop());
  return { h, mod, appDir, dataDir, store: new ReleaseStore(appDir), log };
}

t.test('a new release commits once settled and healthy enough', async (t) => {
  const s = await setup(t, {}, '1.1.0', '1.1.0');
  s.h.health = 'degraded';
  s.h.states = ['running', 'starting'];
  await s.mod.start();
  t.match(await readUpdateState(s.dataDir), { stage: 'switched', deadline: new Date(1_030_000).toISOString() }, 'deadline written at start');
  await new Promise((r) => setTimeout(r, 60));
  t.same(s.h.outbox, [], 'degraded (was ok): waits');
  s.h.health = 'ok';
  await new Promise((r) => setTimeout(r, 60));
  t.same(s.h.outbox, [], 'a module still starting: waits');
  s.h.states = ['running', 'unavailable'];
  await eventually('committed and reported', async () => (await readUpdateState(s.dataDir))?.reported === true);
  t.same(s.h.outbox, [{ type: 'update.committed', data: { from: '1.0.0', to: '1.1.0', stage: 'committed' } }]);
  t.match(await readUpdateState(s.dataDir), { stage: 'committed', reported: true });
  t.same(s.h.progress, ['committed:1.1.0']);
  t.same(s.h.restarts, []);
});

t.test('not healthy by the deadline: back to the previous release, update.failed, restart', async (t) => {
  const s = await setup(t, { healthBefore: 'degraded' }, '1.1.0', '1.1.0');
  s.h.health = 'fault';
  await s.mod.start();
  await new Promise((r) => setTimeout(r, 60));
  t.same(s.h.restarts, [], 'still before the deadline');
  s.h.now += 30_000;
  await eventually('restart requested', () => s.h.restarts.length > 0);
  t.equal(await s.store.currentTarget(), '1.0.0');
  t.match(s.h.outbox, [{ type: 'update.failed', data: { from: '1.0.0', to: '1.1.0', stage: 'rolled-back', reason: /health was fault \(before the update: degraded\)/ } }]);
  t.match(await readUpdateState(s.dataDir), { stage: 'rolled-back', reported: true });
});

t.test('a full outbox does not keep a failed release running; the previous one reports', async (t) => {
  const s = await setup(t, {}, '1.1.0', '1.1.0');
  s.h.health = 'fault';
  s.h.outboxFails = true;
  await s.mod.start();
  s.h.now += 31_000;
  await eventually('restart requested', () => s.h.restarts.length > 0);
  t.equal(await s.store.currentTarget(), '1.0.0');
  t.match(await readUpdateState(s.dataDir), { stage: 'rolled-back', reported: false });

  const prev = await setup(t, { stage: 'rolled-back', reason: 'health was fault' }, '1.0.0', '1.0.0');
  await prev.mod.start();
  await eventually('reported', async () => (await readUpdateState(prev.dataDir))?.reported === true);
  t.match(prev.h.outbox, [{ type: 'update.failed', data: { to: '1.1.0', reason: 'health was fault' } }]);
  t.same(await prev.store.list(), ['1.0.0'], 'the failed release was deleted');
  t.same(prev.h.restarts, []);
});

t.test('interrupted before the switch: recorded and reported as failed', async (t) => {
  const s = await setup(t, { attempts: 0 }, '1.0.0', '1.0.0');
  await s.mod.start();
  await eventually('reported', async () => (await readUpdateState(s.dataDir))?.reported === true);
  t.match(s.h.outbox, [{ type: 'update.failed', data: { stage: 'failed', reason: /interrupted before the switch/ } }]);
  t.match(await readUpdateState(s.dataDir), { stage: 'failed', reported: true });
});

t.test('switched but not yet restarted (module restart): nothing happens', async (t) => {
  const s = await setup(t, { attempts: 0 }, '1.0.0', '1.1.0');
  await s.mod.start();
  await new Promise((r) => setTimeout(r, 60));
  t.same(s.h.outbox, []);
  t.match(await readUpdateState(s.dataDir), { stage: 'switched' });
  await t.rejects(s.mod.apply({ version: '1.2.0', sig: {}, data: '' }), { code: 'InvalidInput' }, 'malformed manifest');
  await t.rejects(s.mod.apply({ version: '1.2.0', sig: {}, data: '', url: 'https://x' }), { message: /exactly one of/ });
});
