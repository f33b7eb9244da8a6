import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

/** Against a real Mosquitto 2 broker (MQTT 5): the contract as the cloud sees it. */
t.test('MQTT 5 on Mosquitto: correlation data, presence and will, 3.1.1 fallback', async (t) => {
  const broker = await startMosquitto();
  t.teardown(broker.cleanup);
  const cloud = await CloudSim.connect({ url: broker.url });
  t.teardown(() => cloud.close());
  t.equal(cloud.protocolVersion, 5);

  await t.test('command round trip with responseTopic + correlationData', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url });
    t.teardown(box.stop);
    await eventually('online', () => cloud.box(box.boxId).state?.online === true);
    const reply = await cloud.command(box.boxId, 'ping', {}, { id: 'v5-ping' });
    t.match(reply, { id: 'v5-ping', status: 'ok', data: { pong: true } });
    const expired = await cloud.command(box.boxId, 'ping', {}, { id: 'v5-old', expiresAt: new Date(Date.now() - 1000).toISOString() });
    t.match(expired, { status: 'error', error: { code: 'Expired' } });
    const unknown = await cloud.command(box.boxId, 'no.such', {});
    t.match(unknown, { status: 'error', error: { code: 'UnknownCommand' } });
    const tail = await cloud.command(box.boxId, 'logs.tail', { lines: 5, level: 'info' });
    t.equal((tail as { data: { lines: unknown[] } }).data.lines.length, 5);
    t.equal(box.agent.cloud.status()['link'], 'connected');
  });

  await t.test('3.1.1 fallback by configuration: replies on res/{id}', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url }, { config: { cloud: { protocolVersion: 4 } } });
    t.teardown(box.stop);
    await eventually('online', () => cloud.box(box.boxId).state?.online === true);
    const reply = await cloud.command(box.boxId, 'ping', {}, { id: 'v4-ping' });
    t.match(reply, { id: 'v4-ping', status: 'ok' });
  });

  await t.test('kill -9: the retained will says offline with the session; a restart is a newer session', async (t) => {
    const { dir, cleanup } = await tempDir();
    t.teardown(cleanup);
    const child = path.join(repoRoot, 'test', 'helpers', 'cloud-producer-child.mjs');
    const run = (): Promise<{ kill: () => Promise<void> }> =>
      new Promise((resolve, reject) => {
        const proc = spawn(process.execPath, [child, dir, broker.url, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
        proc.on('error', reject);
        proc.stdout.on('data', (c: Buffer) => {
          if (c.toString().includes('S')) resolve({ kill: async () => void (proc.kill('SIGKILL'), await new Promise((r) => proc.once('close', r))) });
        });
      });
    const first = await run();
    await eventually('a box online', () => cloud.boxes().some((b) => b.state?.online && b.state.version === 'crash-test'));
    const view = cloud.boxes().find((b) => b.state?.version === 'crash-test');
    const session = view?.state?.session ?? 0;
    await first.kill();
    // Mosquitto publishes the will after the keepalive expires (1.5 × 30 s) or at once on a broken socket.
    await eventually('offline via will', () => view?.state?.online === false, 60_000);
    t.match(view?.state, { online: false, session });
    const second = await run();
    t.teardown(second.kill);
    await eventually('online again', () => view?.state?.online === true);
    t.ok((view?.state?.session ?? 0) > session, `session ${view?.state?.session} > ${session}`);
  });

  await t.test('with a remote cloud the local broker still serves the contract to LAN software', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url });
    t.teardown(box.stop);
    await eventually('online', () => cloud.box(box.boxId).state?.online === true);
    t.match(box.agent.localBroker.status(), { servesContract: true });
    const lan = await CloudSim.connect({ url: `mqtt://127.0.0.1:${String(box.agent.localBroker.status()['port'])}`, protocolVersion: 4, boxId: box.boxId });
    t.teardown(() => lan.close());
    const reply = await lan.command(box.boxId, 'ping', {}, { id: 'lan-1' });
    t.match(reply, { id: 'lan-1', status: 'ok', data: { pong: true } });
    const again = await lan.command(box.boxId, 'ping', {}, { id: 'lan-1' });
    t.same(again, reply, 'local commands are journaled too: same id, same result');
    const e = await box.agent.outbox.append('test.mirror', { n: 1 });
    await eventually('mirrored locally', () => lan.box(box.boxId).events.some((x) => x.id === e.id));
    await eventually('delivered to the cloud', () => cloud.box(box.boxId).events.some((x) => x.id === e.id));
  });

  await t.test('plain mqtt:// to a remote host is refused with a clear reason', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: 'mqtt://cloud.example.invalid:1883' });
    t.teardown(box.stop);
    await eventually('reason reported', () => /TLS is mandatory/.test(String(box.agent.cloud.status()['lastError'] ?? '')));
    const health = await box.agent.cloud.healthcheck();
    t.match(health, { level: 'degraded', reason: /refusing unencrypted mqtt:\/\/ to cloud.example.invalid/ });
  });
});
