import t from 'tap';
import mqtt from 'mqtt';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { hashBrokerPassword } from '../../agent/cloud/broker-password.js';
import { patientData } from '../../agent/core/patient-data.js';

/**
 * The embedded default: with no cloud configured the cloud link connects to the box's own aedes
 * broker (MQTT 3.1.1), and the cloud simulator talks to the box through it — replies on res/{id}.
 */
t.test('embedded broker: presence, health, commands, config, chunks', async (t) => {
  const box = await startTestAgent();
  t.teardown(box.stop);
  t.equal(box.agent.deps.config.get().localBroker.host, '127.0.0.1', 'bound to loopback by default');
  const url = `mqtt://127.0.0.1:${String(box.agent.localBroker.status()['port'])}`;
  await eventually('cloud link connected', () => box.agent.cloud.status()['link'] === 'connected');
  const cloud = await CloudSim.connect({ url });
  t.teardown(() => cloud.close());
  t.equal(cloud.protocolVersion, 4, 'aedes speaks 3.1.1, the simulator fell back');
  const view = cloud.box(box.boxId);

  await t.test('retained state and health', async (t) => {
    await eventually('state and health received', () => view.state !== undefined && view.health !== undefined);
    t.match(view.state, { online: true, session: 1, version: 'test' });
    t.equal(view.health?.version, 'test');
    t.ok(view.health?.modules.some((m) => m.name === 'cloud'));
    t.equal(typeof view.health?.outbox.depth, 'number');
  });

  await t.test('ping on res/{id}', async (t) => {
    const reply = await cloud.command(box.boxId, 'ping', {}, { id: 'ping-1' });
    t.match(reply, { id: 'ping-1', status: 'ok', data: { pong: true } });
  });

  await t.test('the same id twice runs once and returns the stored result', async (t) => {
    let runs = 0;
    box.agent.deps.dispatcher.register('test', {
      'test.count': { description: 'counts', handler: async () => ({ run: ++runs }) },
    });
    const first = await cloud.command(box.boxId, 'test.count', {}, { id: 'dup-1' });
    const second = await cloud.command(box.boxId, 'test.count', {}, { id: 'dup-1' });
    t.same(first, { id: 'dup-1', status: 'ok', data: { run: 1 } });
    t.same(second, first);
    t.equal(runs, 1);
  });

  await t.test('expired commands are answered and not run', async (t) => {
    let ran = false;
    box.agent.deps.dispatcher.register('test2', { 'test.expire': { description: 'x', handler: async () => (ran = true) } });
    const reply = await cloud.command(box.boxId, 'test.expire', {}, { id: 'exp-1', expiresAt: '2020-01-01T00:00:00Z' });
    t.match(reply, { id: 'exp-1', status: 'error', error: { code: 'Expired' } });
    t.equal(ran, false);
  });

  await t.test('invalid payloads get an error reply and change nothing', async (t) => {
    const before = JSON.stringify(box.agent.deps.config.get());
    await t.rejects(cloud.command(box.boxId, 'config.set', {}, { id: 'bad-1', raw: Buffer.from('{"id":"bad-1", "args": '), timeoutMs: 1_000 }), /no reply/);
    t.match(cloud.invalidReplies, [{ id: null, status: 'error', error: { code: 'InvalidInput', message: 'payload is not JSON' } }], 'not JSON: answered on res/_invalid');
    const schema = await cloud.command(box.boxId, 'config.set', {}, { id: 'bad-2', raw: Buffer.from(JSON.stringify({ id: 'bad-2', args: [1], extra: true })) });
    t.match(schema, { id: 'bad-2', status: 'error', error: { code: 'InvalidInput', message: /does not match the command schema/ } });
    const args = await cloud.command(box.boxId, 'config.set', { path: 'log.level' }, { id: 'bad-3' });
    t.match(args, { id: 'bad-3', status: 'error', error: { code: 'InvalidInput', message: /invalid arguments for config.set/ } });
    // Over the 256 KiB contract limit but under the broker's packet guard (limit + 1 KiB overhead).
    const big = Buffer.from(JSON.stringify({ id: 'bad-4', args: { path: 'box.name', value: 'x'.repeat(256 * 1024) } }));
    const oversize = await cloud.command(box.boxId, 'config.set', {}, { id: 'bad-4', raw: big });
    t.match(oversize, { id: 'bad-4', status: 'error', error: { code: 'InvalidInput', message: /exceeds the limit/ } });
    t.equal(JSON.stringify(box.agent.deps.config.get()), before, 'configuration unchanged');
  });

  await t.test('desired config: applied, rejected with paths, older versions ignored', async (t) => {
    const applied = await cloud.pushConfig(box.boxId, 5, { box: { name: 'Praxis Nord' } });
    t.match(applied, { version: 5, status: 'applied', appliedVersion: 5 });
    t.equal(box.agent.deps.config.get().box.name, 'Praxis Nord');
    const rejected = await cloud.pushConfig(box.boxId, 6, { log: { level: 'loud' } });
    t.match(rejected, { version: 6, status: 'rejected', appliedVersion: 5, errors: [{ path: '/log/level' }] });
    // A late, older document (a version race) must not undo version 5.
    await cloud.publishRaw(box.boxId, 'config/desired', JSON.stringify({ version: 4, config: { box: { name: 'Alt' } } }), true);
    await new Promise((r) => setTimeout(r, 300));
    t.equal(box.agent.deps.config.get().box.name, 'Praxis Nord');
    t.equal(cloud.box(box.boxId).reported?.version, 6, 'no report for the ignored version');
    await cloud.publishRaw(box.boxId, 'config/desired', 'garbage', true);
    const next = await cloud.pushConfig(box.boxId, 7, { box: { name: 'Praxis Süd' } });
    t.match(next, { version: 7, status: 'applied' });
  });

  await t.test('events reach the cloud; a large one goes in chunks and is re-assembled', async (t) => {
    const small = await box.agent.outbox.append('test.small', { n: 1, person: patientData({ surname: 'Beispiel' }) });
    const blob = 'ä'.repeat(400 * 1024);
    const large = await box.agent.outbox.append('test.large', { blob });
    await eventually('both events received', () => view.events.some((e) => e.id === large.id) && view.events.some((e) => e.id === small.id));
    t.same(view.events.find((e) => e.id === small.id)?.data, { n: 1, person: { surname: 'Beispiel' } });
    t.equal((view.events.find((e) => e.id === large.id)?.data as { blob: string }).blob, blob);
    t.same(cloud.chunkFailures, []);
    await eventually('outbox drained', () => box.agent.outbox.stats().depth === 0);
  });

  await t.test('a large command arrives in chunks and is answered on res/{id}', async (t) => {
    const config = { box: { name: 'x' }, pad: 'y'.repeat(600 * 1024) };
    const reply = await cloud.command(box.boxId, 'config.validate', { config }, { id: 'big-cmd' });
    t.match(reply, { id: 'big-cmd', status: 'ok', data: { valid: false, problems: [{ path: '/pad', message: 'unknown setting' }] } });
  });

  await t.test('resync re-publishes state and health', async (t) => {
    const reply = await cloud.command(box.boxId, 'resync', {});
    t.match(reply, { status: 'ok', data: { resynced: true } });
  });
});

t.test('local broker: users, rights, anonymous only without users and from loopback, packet size limit', async (t) => {
  const hash = await hashBrokerPassword('geheim-123');
  const box = await startTestAgent({}, {
    config: {
      localBroker: {
        users: [
          { name: 'kalender', passwordHash: hash, rights: ['events'] },
          { name: 'pvs', passwordHash: hash, rights: ['events', 'commands'] },
        ],
        maxMessageBytes: 64 * 1024,
      },
    },
  });
  t.teardown(box.stop);
  await eventually('cloud link connected with the internal user', () => box.agent.cloud.status()['link'] === 'connected');
  const url = `mqtt://127.0.0.1:${String(box.agent.localBroker.status()['port'])}`;
  const root = `praxisbox/v1/${box.boxId}/`;

  await t.rejects(CloudSim.connect({ url, protocolVersion: 4 }), /cannot connect/, 'anonymous refused once users exist');
  await t.rejects(CloudSim.connect({ url, protocolVersion: 4, username: 'pvs', password: 'falsch' }), /cannot connect/, 'wrong password refused');

  const reader = await mqtt.connectAsync(url, { username: 'kalender', password: 'geheim-123', protocolVersion: 4, reconnectPeriod: 0 });
  t.teardown(() => reader.endAsync(true));
  const grantOf = (topic: string): Promise<number | undefined> =>
    new Promise((resolve) => reader.subscribe(topic, { qos: 1 }, (err, g) => resolve(err ? 128 : g?.[0]?.qos)));
  const granted = [await grantOf(`${root}state`), await grantOf(`${root}cmd/+`), await grantOf('praxisbox/v1/#')];
  t.same(granted, [1, 128, 128], 'events reader may read state, not commands or other boxes');

  const pvs = await CloudSim.connect({ url, protocolVersion: 4, username: 'pvs', password: 'geheim-123', boxId: box.boxId });
  t.teardown(() => pvs.close());
  const reply = await pvs.command(box.boxId, 'ping', {});
  t.match(reply, { status: 'ok' }, 'a user with the commands right can send commands');

  // An unauthorized publish is dropped by the broker (aedes 1.x answers a refused QoS 1 publish
  // by closing the connection); either way the command must not run.
  let sneaked = 0;
  box.agent.deps.dispatcher.register('test', { 'test.sneak': { description: 'x', handler: async () => ++sneaked } });
  const readerCmd = await mqtt.connectAsync(url, { username: 'kalender', password: 'geheim-123', protocolVersion: 4, reconnectPeriod: 0 });
  readerCmd.on('error', () => undefined);
  readerCmd.publish(`${root}cmd/test.sneak`, JSON.stringify({ id: 'nope' }), { qos: 0 });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(sneaked, 0, 'a client without the commands right cannot send commands');
  await readerCmd.endAsync(true);

  const big = mqtt.connect(url, { username: 'pvs', password: 'geheim-123', protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise((r) => big.once('connect', r));
  const bigClosed = new Promise<void>((r) => big.once('close', () => r()));
  big.publish(`${root}cmd/ping`, Buffer.alloc(200 * 1024, 0x61), { qos: 0 });
  await bigClosed;
  t.match(box.agent.localBroker.status()['rejected'], { oversize: 1 }, 'an oversized packet closes the connection');
  t.match(box.logText(), /packet too large/);
});
