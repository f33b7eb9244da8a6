import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { Agent } from '../../agent/main.js';
import type { PairingState } from '../../agent/core/events.js';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { PROVISIONING_PASSWORD, PROVISIONING_USER } from '../../agent/cloud/sim/dynsec.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestAgent } from '../helpers/test-agent.js';
import { runCli } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/fixtures.js';

/**
 * Pairing against a real Mosquitto 2 with the dynamic-security plugin: the broker refuses the box
 * until the cloud (cloud-sim) has made its account, so "connected after pairing" proves the stored
 * credentials are the ones in use.
 */
const admin = { adminUser: 'cloud-admin', adminPassword: randomBytes(12).toString('hex') };

interface Box {
  agent: Agent;
  boxId: string;
  dir: string;
  log: () => string;
  states: PairingState[];
  run: (name: string, args?: unknown) => Promise<unknown>;
  stop: () => Promise<void>;
}

async function startBox(dir: string, url: string): Promise<Box> {
  const states: PairingState[] = [];
  const box = await startTestAgent(
    { PRAXISBOX_CLOUD_URL: url },
    {
      dir,
      config: { cloud: { reconnectMinMs: 100, reconnectMaxMs: 1_000 } },
      beforeStart: (agent) => agent.deps.bus.on('test', 'cloud.pairing', ({ state }) => void states.push(state)),
    },
  );
  return {
    agent: box.agent,
    boxId: box.boxId,
    dir,
    log: box.logText,
    states,
    run: (name, args = {}) => box.agent.deps.dispatcher.run(name, args, { source: 'web' }),
    stop: box.stop,
  };
}

const cloudStatus = (box: Box): Record<string, unknown> => box.agent.cloud.status();

t.test('pairing on Mosquitto with dynamic security', async (t) => {
  const broker = await startMosquitto({ dynsec: admin });
  const cloud = await CloudSim.connect({ url: broker.url, username: admin.adminUser, password: admin.adminPassword, pairing: { codeTtlSeconds: 60, intervalSeconds: 1, dynsec: { ownUser: admin.adminUser } } });
  t.teardown(async () => {
    await cloud.close();
    await broker.cleanup();
  });
  const sim = cloud.pairing?.cloud;
  if (!sim) throw new Error('pairing not enabled');
  const simCli = ['cloud-sim', '--url', broker.url, '--username', admin.adminUser, '--password', admin.adminPassword];

  await t.test('start → approve → credentials 0600 → reconnect → paired; restart keeps it; unpair', async (t) => {
    const { dir, cleanup } = await tempDir('praxisbox-pairing-');
    t.teardown(cleanup);
    let box = await startBox(dir, broker.url);
    t.teardown(() => box.stop());
    t.match(await box.run('cloud.pair.status'), { state: 'unpaired' });
    await eventually('the broker refuses the unpaired box', () => /not authorized|code 5|code 135/.test(String(cloudStatus(box)['lastError'] ?? '')));

    const [started, twin] = (await Promise.all([box.run('cloud.pair.start'), box.run('cloud.pair.start')])) as [Record<string, string | number>, Record<string, string | number>];
    t.same(twin, started, 'two starts at once make one request');
    t.match(started, { state: 'pending', userCode: /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/, verificationUri: /^https:\/\//, verificationUriComplete: /\?code=/, intervalSeconds: 1 });
    t.ok(Date.parse(String(started['expiresAt'])) > Date.now() + 50_000, 'expiresAt about a minute ahead');
    t.same(await box.run('cloud.pair.start'), started, 'a second start while pending returns the same pairing');
    t.match(await box.run('cloud.pair.status'), { state: 'pending', userCode: started['userCode'] });

    // A person approves in the account, through the running simulator's control channel (a second process).
    const approved = await runCli([...simCli, 'approve', String(started['userCode']).toLowerCase().replace('-', ''), '--account-id', 'acct-7', '--account-name', 'Praxis Dr. Beispiel'], {});
    t.equal(approved.code, 0, approved.stderr);
    t.match(JSON.parse(approved.stdout), { phase: 'approved', account: { id: 'acct-7' } });

    await eventually('paired', async () => ((await box.run('cloud.pair.status')) as { state: string }).state === 'paired');
    const status = (await box.run('cloud.pair.status')) as Record<string, unknown>;
    t.match(status, { state: 'paired', account: { id: 'acct-7', name: 'Praxis Dr. Beispiel' }, pairedAt: String });
    t.notOk('userCode' in status, 'no code once paired');
    const credFile = path.join(box.agent.deps.paths.cloudDir, 'credentials.json');
    t.equal((await fs.stat(credFile)).mode & 0o777, 0o600, 'credentials file is 0600');
    const creds = JSON.parse(await fs.readFile(credFile, 'utf8')) as { username: string; password: string };
    t.equal(creds.username, box.boxId);
    t.ok(creds.password.length >= 24);

    await eventually('connected with the new account', () => cloudStatus(box)['link'] === 'connected', 15_000);
    await eventually('online in the cloud', () => cloud.box(box.boxId).state?.online === true);
    t.match(await cloud.command(box.boxId, 'ping', {}), { status: 'ok', data: { pong: true } }, 'commands reach the paired box');
    t.match(cloudStatus(box)['pairing'], { state: 'paired' }, 'cloud.status includes the pairing');
    t.same(box.states, ['pending', 'paired'], 'one bus event per state change');

    const again = await runCli([...simCli, 'approve', String(started['userCode'])], {});
    t.equal(again.code, 1);
    t.match(again.stderr, /PAIRING_CODE_USED/, 'a used code cannot be approved again');
    t.match(await cloud.control({ op: 'deny', code: String(started['userCode']) }), { ok: false, code: 'PAIRING_CODE_USED' });
    t.match(await cloud.control({ op: 'approve', code: 'BBBB-BBBB' }), { ok: false, code: 'PAIRING_UNKNOWN_CODE' });
    await t.rejects(box.run('cloud.pair.start'), { code: 'CommandRejected', message: /PAIRING_ALREADY_PAIRED/ });

    // Restart on the same data directory: still paired, connects with the stored account.
    const firstLog = box.log();
    t.match(firstLog, /cloud pairing: paired/, 'the log says what happened');
    await box.stop();
    box = await startBox(dir, broker.url);
    t.match(await box.run('cloud.pair.status'), { state: 'paired', account: { id: 'acct-7' } });
    await eventually('connected after restart', () => cloudStatus(box)['link'] === 'connected', 15_000);

    await t.rejects(box.run('cloud.unpair', {}), { code: 'InvalidInput' }, 'unpair needs confirm: true');
    await t.rejects(box.run('cloud.unpair', { confirm: false }), { code: 'InvalidInput' });
    t.same(await box.run('cloud.unpair', { confirm: true }), { state: 'unpaired', cloudNotified: true });
    await t.rejects(fs.stat(credFile), { code: 'ENOENT' }, 'credentials removed');
    await eventually('the cloud was told', () => sim.unpaired.includes(box.boxId));
    await eventually('the link is refused again', () => cloudStatus(box)['link'] !== 'connected' && /not authorized|code 5|code 135/.test(String(cloudStatus(box)['lastError'] ?? '')), 15_000);
    t.match(await box.run('cloud.pair.status'), { state: 'unpaired' });
    t.match(cloudStatus(box)['pairing'], { state: 'unpaired' });

    // The old account is gone at the broker.
    const old = mqtt.connect(broker.url, { username: creds.username, password: creds.password, clientId: box.boxId, reconnectPeriod: 0 });
    const refused = await new Promise<boolean>((resolve) => {
      old.once('connect', () => resolve(false));
      old.once('error', () => resolve(true));
    });
    old.end(true);
    t.ok(refused, 'the revoked credentials no longer connect');

    for (const log of [firstLog, box.log()]) t.notOk(log.includes(creds.password), 'the password never appears in the log (pairing run, restart and unpair)');
  });

  await t.test('deny, expiry, and the provisioning account\'s limits', async (t) => {
    const { dir, cleanup } = await tempDir('praxisbox-pairing-');
    t.teardown(cleanup);
    const box = await startBox(dir, broker.url);
    t.teardown(() => box.stop());

    const first = (await box.run('cloud.pair.start')) as { userCode: string };
    const denied = await runCli([...simCli, 'deny', first.userCode], {});
    t.equal(denied.code, 0, denied.stderr);
    await eventually('denied', async () => ((await box.run('cloud.pair.status')) as { state: string }).state === 'denied');
    t.match(await box.run('cloud.pair.status'), { state: 'denied', error: { code: 'PAIRING_DENIED', message: /denied/, messageDe: /abgelehnt/ } });
    t.match(await cloud.control({ op: 'approve', code: first.userCode }), { ok: false, code: 'PAIRING_DENIED' }, 'a denied code cannot be approved');

    sim.setCodeTtl(2);
    t.teardown(() => sim.setCodeTtl(60));
    const second = (await box.run('cloud.pair.start')) as { userCode: string; state: string };
    t.equal(second.state, 'pending', 'a new pairing after a denied one');
    t.not(second.userCode, first.userCode);
    await eventually('expired', async () => ((await box.run('cloud.pair.status')) as { state: string }).state === 'expired', 6_000);
    t.match(await box.run('cloud.pair.status'), { state: 'expired', error: { code: 'PAIRING_EXPIRED', messageDe: /abgelaufen/ } });
    t.notOk(((await box.run('cloud.pair.status')) as { userCode?: string }).userCode, 'no stale code shown');
    const late = await runCli([...simCli, 'approve', second.userCode], {});
    t.equal(late.code, 1);
    t.match(late.stderr, /PAIRING_EXPIRED/);
    t.same(box.states, ['pending', 'denied', 'pending', 'expired']);
    t.same(await box.run('cloud.unpair', { confirm: true }), { state: 'unpaired', cloudNotified: false }, 'unpairing an unpaired box is harmless');

    // The public provisioning account may not read anything but (sealed) pairing replies.
    const prov = await mqtt.connectAsync(broker.url, { username: PROVISIONING_USER, password: PROVISIONING_PASSWORD, reconnectPeriod: 0 });
    t.teardown(() => prov.endAsync(true));
    for (const topic of ['praxisbox/v1/#', 'praxisbox/pairing/v1/+/req']) {
      await t.rejects(prov.subscribeAsync(topic, { qos: 1 }), { name: 'ErrorWithSubackPacket' }, `${topic} is closed to the provisioning account`);
    }
  });

  await t.test('no cloud answering: pairing fails with a clear code', async (t) => {
    const { dir, cleanup } = await tempDir('praxisbox-pairing-');
    t.teardown(cleanup);
    const box = await startBox(dir, 'mqtt://127.0.0.1:1');
    t.teardown(() => box.stop());
    await t.rejects(box.run('cloud.pair.start'), { code: 'DeviceUnavailable', message: /PAIRING_CLOUD_UNREACHABLE/ });
    t.match(await box.run('cloud.pair.status'), { state: 'failed', error: { code: 'PAIRING_CLOUD_UNREACHABLE', messageDe: /nicht erreichbar/ } });
  });
});
