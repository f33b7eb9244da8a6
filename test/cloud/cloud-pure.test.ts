import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ChunkReassembler, splitIntoChunks, chunkDataBytes } from '../../agent/cloud/chunking.js';
import { MqttPacketSizeGuard } from '../../agent/cloud/mqtt-size-guard.js';
import { mayPublish, maySubscribe, anonymousAllowed } from '../../agent/cloud/broker-acl.js';
import { connectionPlan, mergeConfig } from '../../agent/cloud/connection-plan.js';
import { hashBrokerPassword, verifyBrokerPassword } from '../../agent/cloud/broker-password.js';
import { boxTopics, parseBoxTopic, isLoopbackHost } from '../../agent/cloud/topics.js';
import { CONTRACT_SCHEMAS, checkCommand, checkDesired } from '../../agent/cloud/contract.js';
import { defaultConfig } from '../../agent/config/validate.js';
import { ErrorCode } from '../../agent/core/errors.js';
import { repoRoot } from '../helpers/fixtures.js';

const reassembler = () => new ChunkReassembler({ maxBlobBytes: 10 * 1024 * 1024, maxOpen: 2, timeoutMs: 60_000, now: () => Date.now() });

t.test('chunks: split and re-assemble in any order with duplicates; checksums enforced', async (t) => {
  const blob = Buffer.from(Array.from({ length: 700_000 }, (_, i) => i % 251));
  const chunks = splitIntoChunks(blob, 'evt/gdt.result', 64 * 1024);
  t.equal(chunks.length, Math.ceil(blob.length / chunkDataBytes(64 * 1024)));
  for (const c of chunks) t.ok(Buffer.byteLength(JSON.stringify(c)) <= 64 * 1024, 'each chunk message within the limit');
  const r = reassembler();
  const shuffled = [...chunks].reverse();
  shuffled.splice(3, 0, chunks[5] as (typeof chunks)[number]);
  let result;
  for (const c of shuffled) result = r.add(c);
  t.match(result, { state: 'complete', topic: 'evt/gdt.result' });
  t.ok((result as { payload: Buffer }).payload.equals(blob));

  const tampered = splitIntoChunks(blob, 'evt/x', 64 * 1024, 'tamper');
  (tampered[1] as { data: string }).data = Buffer.from('evil').toString('base64');
  const r2 = reassembler();
  const outcomes = tampered.map((c) => r2.add(c).state);
  t.ok(outcomes.includes('failed'), 'wrong bytes are detected (size or SHA-256)');

  const wrongSha = splitIntoChunks(Buffer.from('hello world'), 'evt/x', 64 * 1024, 'sha');
  (wrongSha[0] as { sha256: string }).sha256 = createHash('sha256').update('other').digest('hex');
  t.match(reassembler().add(wrongSha[0] as (typeof wrongSha)[number]), { state: 'failed', reason: /SHA-256/ });

  const huge = { ...(chunks[0] as (typeof chunks)[number]), id: 'huge', size: 20 * 1024 * 1024 };
  t.match(reassembler().add(huge), { state: 'failed', reason: /exceeds the limit/ });
  t.match(reassembler().add({ ...(chunks[0] as (typeof chunks)[number]), id: 'idx', index: 99, count: 2 }), { state: 'failed' });

  const r3 = reassembler();
  r3.add({ ...(chunks[0] as (typeof chunks)[number]), id: 'a' });
  r3.add({ ...(chunks[0] as (typeof chunks)[number]), id: 'b' });
  r3.add({ ...(chunks[0] as (typeof chunks)[number]), id: 'c' });
  t.equal(r3.openCount, 2, 'bounded number of open blobs');
  t.throws(() => chunkDataBytes(1000), { code: ErrorCode.InvalidConfig });
});

t.test('packet size guard: declared sizes across chunk boundaries', async (t) => {
  const g = new MqttPacketSizeGuard(1000);
  // CONNECT-ish packet of 10 bytes, then a PUBLISH announcing 2,000,000 bytes (0x80 0x89 0x7a)
  t.equal(g.feed(Buffer.from([0x10, 0x0a, ...Array(10).fill(0)])), undefined);
  t.equal(g.feed(Buffer.from([0x30])), undefined);
  t.match(g.feed(Buffer.from([0x80, 0x89, 0x7a])), /exceeds the limit/);
  const ok = new MqttPacketSizeGuard(200);
  const pkt = Buffer.from([0x30, 0x64, ...Array(100).fill(1)]);
  for (let i = 0; i < pkt.length; i++) t.equal(ok.feed(pkt.subarray(i, i + 1)), undefined);
  t.equal(ok.feed(Buffer.from([0xc0, 0x00])), undefined, 'PINGREQ with zero length');
  t.match(new MqttPacketSizeGuard(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])), /malformed|exceeds/);
});

t.test('local broker ACL', async (t) => {
  const root = boxTopics('pbx-abc').root;
  const reader = { user: 'k', full: false, rights: new Set(['events'] as const) };
  const sender = { user: 'p', full: false, rights: new Set(['commands'] as const) };
  t.ok(maySubscribe(reader, `${root}evt/#`, root));
  t.ok(maySubscribe(reader, `${root}health`, root));
  t.notOk(maySubscribe(reader, `${root}cmd/+`, root));
  t.notOk(maySubscribe(reader, `${root}#`, root));
  t.notOk(maySubscribe(reader, 'praxisbox/v1/pbx-other/evt/#', root));
  t.ok(maySubscribe(sender, `${root}res/#`, root));
  t.notOk(maySubscribe(sender, `${root}evt/#`, root));
  t.ok(mayPublish(sender, `${root}cmd/ping`, root));
  t.notOk(mayPublish(sender, `${root}cmd/a/b`, root));
  t.notOk(mayPublish(sender, `${root}state`, root));
  t.notOk(mayPublish(reader, `${root}cmd/ping`, root));
  t.ok(anonymousAllowed(0, '127.0.0.1') && anonymousAllowed(0, '::ffff:127.0.0.1') && anonymousAllowed(0, '::1'));
  t.notOk(anonymousAllowed(0, '192.168.1.20'));
  t.notOk(anonymousAllowed(1, '127.0.0.1'));
});

t.test('connection plan: TLS mandatory off loopback, protocol, will', async (t) => {
  const cfg = defaultConfig().cloud;
  const ids = { clientId: 'pbx-abc', willTopic: 'praxisbox/v1/pbx-abc/state', session: 7 };
  t.throws(() => connectionPlan(cfg, { url: 'mqtt://broker.example.com', embedded: false }, ids, {}), { code: ErrorCode.InvalidConfig, message: /TLS is mandatory/ });
  t.throws(() => connectionPlan(cfg, { url: 'ws://10.0.0.1:8080', embedded: false }, ids, {}), { message: /refusing unencrypted ws:/ });
  t.throws(() => connectionPlan(cfg, { url: 'http://x', embedded: false }, ids, {}), { message: /scheme http: is not supported/ });
  t.throws(() => connectionPlan(cfg, { url: 'not a url', embedded: false }, ids, {}), { message: /not a valid URL/ });
  const local = connectionPlan(cfg, { url: 'mqtt://127.0.0.1:1883', embedded: true }, ids, {});
  t.equal(local.options.protocolVersion, 4, 'the embedded broker is 3.1.1');
  t.same(JSON.parse(String(local.options.will?.payload)), { online: false, session: 7 });
  t.equal(local.options.reconnectPeriod, 0, 'own reconnect loop');
  const remote = connectionPlan(cfg, { url: 'mqtts://broker.example.com:8883', embedded: false }, ids, { ca: Buffer.from('x') });
  t.equal(remote.options.protocolVersion, 5);
  t.equal(remote.options.rejectUnauthorized, true);
  t.ok(isLoopbackHost('127.0.0.5') && isLoopbackHost('[::1]') && isLoopbackHost('localhost'));
  t.notOk(isLoopbackHost('127.example.com'));
});

t.test('desired config merge: objects merge, arrays and values replace, no prototype pollution', async (t) => {
  t.same(mergeConfig({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [9] }), { a: { b: 1, c: 3 }, l: [9] });
  const polluted = mergeConfig({}, JSON.parse('{"__proto__": {"x": 1}}')) as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>)['x'], undefined);
  t.same(polluted, {});
});

t.test('broker passwords: scrypt, verified in constant time, malformed hashes refused', async (t) => {
  const hash = await hashBrokerPassword('richtig-123');
  t.match(hash, /^scrypt\$16384\$8\$1\$/);
  t.equal(await verifyBrokerPassword('richtig-123', hash), true);
  t.equal(await verifyBrokerPassword('falsch', hash), false);
  t.equal(await verifyBrokerPassword('x', 'scrypt$1$1'), false);
  t.equal(await verifyBrokerPassword('x', 'scrypt$99999999$8$1$aa$bb'), false, 'absurd cost refused');
});

t.test('topics and schemas', async (t) => {
  t.same(parseBoxTopic('praxisbox/v1/pbx-a/evt/card.read'), { boxId: 'pbx-a', rest: 'evt/card.read' });
  t.equal(parseBoxTopic('other/v1/x/y'), undefined);
  t.ok(checkCommand({ id: 'a-1', args: {}, expiresAt: '2026-01-01T00:00:00Z' }).ok);
  t.notOk(checkCommand({ id: 'a-1', expiresAt: 'tomorrow' }).ok, 'date-time format enforced');
  t.notOk(checkCommand({ id: 'a/1' }).ok);
  t.notOk(checkDesired({ version: 0, config: {} }).ok);
  for (const [name, schema] of Object.entries(CONTRACT_SCHEMAS)) {
    const file = path.join(repoRoot, 'docs', 'mqtt-schemas', `${name}.schema.json`);
    t.same(JSON.parse(await fs.readFile(file, 'utf8')), JSON.parse(JSON.stringify(schema)), `docs/mqtt-schemas/${name}.schema.json is current (praxisbox mqtt-schemas --out docs/mqtt-schemas)`);
  }
});

t.test('command journal: arguments leave the disk once the result is stored', async (t) => {
  const { CommandJournal } = await import('../../agent/cloud/command-journal.js');
  const { tempDir } = await import('../helpers/fixtures.js');
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const journal = new CommandJournal(dir);
  await journal.open(Date.now(), 3600_000);
  const secret = 'Mustermann-'.repeat(100);
  await journal.received({ id: 'c1', name: 'print', args: { jobName: secret }, receivedAt: Date.now(), route: { topic: 'x' } });
  t.match(await fs.readFile(path.join(dir, 'commands.log'), 'latin1'), /Mustermann/, 'kept while the command may have to run again');
  t.same(journal.unfinished().map((e) => e.id), ['c1']);
  await journal.done('c1', { status: 'ok', data: { jobId: 'j1' } }, Date.now());
  t.notMatch(await fs.readFile(path.join(dir, 'commands.log'), 'latin1'), /Mustermann/, 'gone after the result is stored');
  await journal.close();
  const reopened = new CommandJournal(dir);
  await reopened.open(Date.now(), 3600_000);
  t.same(reopened.get('c1')?.result, { status: 'ok', data: { jobId: 'j1' } }, 'the result survives for duplicate ids');
  t.same(reopened.unfinished(), []);
  await reopened.close();
});
