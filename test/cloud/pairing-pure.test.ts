import t from 'tap';
import { USER_CODE_ALPHABET, isPairingReplyPlain, newRequestKey, newUserCode, normalizeUserCode, open, seal, type SealedBox } from '../../agent/cloud/pairing-protocol.js';
import { PairingCloud } from '../../agent/cloud/sim/pairing-cloud.js';
import { mulberry32 } from '../helpers/seeded-random.js';

t.test('user codes: 8 consonants as ABCD-EFGH, typed loosely, checked strictly', async (t) => {
  const random = mulberry32(7);
  for (let i = 0; i < 200; i++) {
    const code = newUserCode((n) => Math.floor(random() * n));
    t.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  }
  t.notOk(/[AEIOUY01]/.test(USER_CODE_ALPHABET), 'no vowels, no digits that look like letters');
  t.equal(normalizeUserCode('bcdf ghjk'), 'BCDF-GHJK');
  t.equal(normalizeUserCode('BCDF-GHJK'), 'BCDF-GHJK');
  t.equal(normalizeUserCode('BCDFGHJ'), undefined, 'too short');
  t.equal(normalizeUserCode('BCDF-GHJA'), undefined, 'a letter outside the alphabet');
  t.equal(normalizeUserCode('BCDF-GHJK-L'), undefined);
});

t.test('sealed replies open only with the request\'s own key, and not when altered', async (t) => {
  const key = newRequestKey();
  const other = newRequestKey();
  const plain = { type: 'approved', username: 'pbx-1', password: 'secret-pw', account: { id: 'a', name: 'n' } };
  const box = seal(plain, key.publicKey);
  t.notOk(JSON.stringify(box).includes('secret-pw'), 'the password is not readable in transit');
  t.same(open(box, key.privateKey, key.publicKey), plain);
  t.ok(isPairingReplyPlain(open(box, key.privateKey, key.publicKey)));
  t.throws(() => open(box, other.privateKey, other.publicKey), 'another request\'s key cannot open it');
  const flipped: SealedBox = { ...box, ct: Buffer.from(Buffer.from(box.ct, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url') };
  t.throws(() => open(flipped, key.privateKey, key.publicKey), 'a changed byte fails authentication');
  t.not(seal(plain, key.publicKey).epk, box.epk, 'a fresh ephemeral key per reply');
});

t.test('the cloud side: pending, approve once, deliver until acknowledged, expiry, deny', async (t) => {
  let now = 1_000_000;
  const issued: string[] = [];
  const revoked: string[] = [];
  const cloud = new PairingCloud({ codeTtlSeconds: 60, intervalSeconds: 2, now: () => now, issue: async (boxId) => (issued.push(boxId), { username: boxId, password: `pw-${boxId}` }), revoke: async (boxId) => void revoked.push(boxId) });
  const key = newRequestKey();
  const reply = (r: ReturnType<PairingCloud['handle']>): unknown => (r?.sealed ? open(r.sealed, key.privateKey, key.publicKey) : r?.error);
  const start = (requestId: string, boxId = 'pbx-a') => cloud.handle({ op: 'start', requestId, boxId, publicKey: key.publicKey, secret: 'secret-0001' });

  const started = reply(start('request-0001')) as { userCode: string; expiresIn: number; interval: number; verificationUriComplete: string };
  t.match(started, { type: 'started', expiresIn: 60, interval: 2 });
  t.ok(started.verificationUriComplete.endsWith(encodeURIComponent(started.userCode)));
  t.match(reply(start('request-0001')), { code: 'PAIRING_INVALID' }, 'a request id is used once');
  t.match(reply(cloud.handle({ op: 'poll', requestId: 'request-0001', secret: 'wrong-secret' })), { code: 'PAIRING_INVALID' }, 'polls need the request secret');
  t.match(reply(cloud.handle({ op: 'poll', requestId: 'request-0001', secret: 'secret-0001' })), { type: 'pending' });

  await t.rejects(cloud.approve('BBBB-BBBB'), { code: 'PAIRING_UNKNOWN_CODE' });
  t.match(await cloud.approve(started.userCode.toLowerCase(), { id: 'acct-1', name: 'Praxis' }), { phase: 'approved', boxId: 'pbx-a' });
  t.same(issued, ['pbx-a'], 'the account is made on approval');
  await t.rejects(cloud.approve(started.userCode), { code: 'PAIRING_CODE_USED' });
  t.throws(() => cloud.deny(started.userCode), { code: 'PAIRING_CODE_USED' });
  const poll = () => reply(cloud.handle({ op: 'poll', requestId: 'request-0001', secret: 'secret-0001' }));
  t.match(poll(), { type: 'approved', username: 'pbx-a', password: 'pw-pbx-a', account: { id: 'acct-1' } });
  t.match(poll(), { type: 'approved' }, 'delivered again until the box acknowledges (a lost reply is no lost pairing)');
  t.equal(cloud.handle({ op: 'ack', requestId: 'request-0001', secret: 'secret-0001' }), undefined);
  t.match(poll(), { type: 'error', code: 'PAIRING_CODE_USED' }, 'after the acknowledgement the credentials are gone');
  t.match(cloud.list(), [{ userCode: started.userCode, phase: 'consumed' }]);

  const second = reply(start('request-0002', 'pbx-b')) as { userCode: string };
  t.not(second.userCode, started.userCode);
  t.match(cloud.deny(second.userCode), { phase: 'denied' });
  t.match(reply(cloud.handle({ op: 'poll', requestId: 'request-0002', secret: 'secret-0001' })), { type: 'error', code: 'PAIRING_DENIED' });
  await t.rejects(cloud.approve(second.userCode), { code: 'PAIRING_DENIED' });

  const third = reply(start('request-0003', 'pbx-c')) as { userCode: string };
  now += 60_000;
  t.match(reply(cloud.handle({ op: 'poll', requestId: 'request-0003', secret: 'secret-0001' })), { type: 'error', code: 'PAIRING_EXPIRED' });
  await t.rejects(cloud.approve(third.userCode), { code: 'PAIRING_EXPIRED' });
  t.match(cloud.list().find((p) => p.boxId === 'pbx-c'), { phase: 'expired' });

  await cloud.unpair('pbx-a');
  t.same(revoked, ['pbx-a']);
  t.same(cloud.unpaired, ['pbx-a']);
});

t.test('the provisioning connection: bootstrap account, clean session, no will, same TLS rules', async (t) => {
  const { provisioningPlan } = await import('../../agent/cloud/connection-plan.js');
  const { Value } = await import('@sinclair/typebox/value');
  const { CloudSection } = await import('../../agent/cloud/cloud-config.js');
  const cfg = Value.Default(CloudSection, {}) as Parameters<typeof provisioningPlan>[0];
  const remote = provisioningPlan(cfg, { url: 'mqtts://cloud.example:8883', embedded: false }, 'pbx-a-pairing', {});
  t.match(remote.options, { clientId: 'pbx-a-pairing', clean: true, username: 'praxisbox-provisioning', password: 'praxisbox-provisioning', rejectUnauthorized: true, protocolVersion: 5 });
  t.notOk('will' in remote.options, 'no will: the box\'s presence is the link\'s business');
  t.notOk('properties' in remote.options, 'no persistent session');
  const embedded = provisioningPlan(cfg, { url: 'mqtt://127.0.0.1:1883', username: 'praxisbox-internal', password: 'x', embedded: true }, 'pbx-a-pairing', {});
  t.match(embedded.options, { username: 'praxisbox-internal', protocolVersion: 4 });
  t.throws(() => provisioningPlan(cfg, { url: 'mqtt://cloud.example:1883', embedded: false }, 'c', {}), /TLS is mandatory/);
});
