import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { fixture } from '../helpers/fixtures.js';
import { fixturePatientValues, leakedValues } from '../helpers/patient-values.js';
import { patientData } from '../../agent/core/patient-data.js';
import { parseGdt, viewRecord } from '../../agent/gdt/codec/index.js';
import { hashPassword } from '../../agent/web/passwords.js';
import { WebClient } from './web-client.js';
import { boxSetupCode, webStatus, GOOD_PASSWORD } from './web-agent.js';

/**
 * The diagnostics bundle after real patient data went through the agent (GDT results imported from
 * the shared samples, orders with a patient sent through the web API, a card read logged) holds
 * none of it, and none of the box's secrets: device secret, setup code, admin password and its
 * hash, TLS key, local broker password hashes, session cookie, CSRF token.
 */
t.test('diagnostics bundle: useful, and no patient data or secrets', async (t) => {
  const brokerHash = await hashPassword('Broker-Passwort-Lan-8');
  const box = await startTestAgent(
    { PRAXISBOX_BOX: '1', PRAXISBOX_WEB_REDIRECT_PORT: '0' },
    {
      config: {
        web: { bind: '127.0.0.1' },
        localBroker: { users: [{ name: 'pvs', passwordHash: brokerHash, rights: ['events'] }] },
        gdt: { stableMs: 80, pollIntervalMs: 200, incompleteWaitMs: 400, devices: [{ id: 'ekg1', name: 'EKG Raum 2', testCodes: ['EKG01'] }] },
      },
    },
  );
  t.teardown(box.stop);
  const web = await webStatus(box);
  const cert = await fs.readFile(path.join(box.dir, 'web', 'tls-cert.pem'), 'utf8');
  const client = new WebClient(String(web['url']), cert);
  const code = await boxSetupCode(box.dir);
  t.equal((await client.post('/api/setup', { setupCode: code, password: GOOD_PASSWORD })).status, 200);

  // Patient data through the agent: GDT results from the device folder ...
  const folder = path.join(box.dir, 'gdt', 'ekg1');
  await eventually('device folder', async () => (await fs.readdir(folder).catch((): string[] => [])).includes('archive'));
  const samples = ['levinalex-xdt_gdt2_1-2.txt', 'dcmtogdt_example-output.gdt', 'crescnet-perl-xdt-parser_example2.gdt', 'levinalex-xdt_example1.gdt.txt'];
  for (const [i, name] of samples.entries()) {
    await fs.writeFile(path.join(folder, `.R${i}.GDT`), await fs.readFile(fixture('gdt-public', name)));
    await fs.rename(path.join(folder, `.R${i}.GDT`), path.join(folder, `R${i}.GDT`));
  }
  await eventually('samples imported', async () => (await fs.readdir(folder)).filter((f) => f.endsWith('.GDT')).length === 0, 15_000);
  // ... an order with a patient through the web API (valid, and invalid with a name where a date belongs) ...
  const p = viewRecord(parseGdt(await fs.readFile(fixture('gdt-public', 'levinalex-xdt_gdt2_1-1.txt'))).records[0]!).patient;
  const patient = { number: p.number ?? '', surname: p.surname, firstName: p.firstName, birthDate: p.birthDateIso, sex: 'male' };
  const order = await client.post('/api/commands/gdt.order', { args: { deviceId: 'ekg1', orderId: 'w-1', test: 'EKG01', patient } });
  t.match(order.json(), { status: 'ok' }, 'order written');
  const invalid = await client.post('/api/commands/gdt.order', { args: { deviceId: 'ekg1', orderId: 'w-2', test: 'EKG01', patient: { ...patient, birthDate: `${p.firstName} ${p.surname}` } } });
  t.equal(invalid.status, 400);
  // ... and a card read as the cards module logs it.
  const values = fixturePatientValues();
  box.agent.deps.log.child({ module: 'cards' }).info({ person: patientData(Object.fromEntries(values.map((v, i) => [`f${i}`, v]))) }, 'card read');
  t.same(leakedValues(order.text + invalid.text, values), [], 'no personal value in the API replies');

  const res = await client.get('/api/diagnostics');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.match(res.headers['content-disposition'], new RegExp(`^attachment; filename="praxisbox-diagnose-${box.boxId}-\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z\\.json"$`));
  const bundle = JSON.parse(res.text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  await t.test('what an IT provider needs is in it', async (t) => {
    t.match(bundle, { kind: 'praxisbox-diagnostics', boxId: box.boxId, versions: { agent: 'test', node: process.version, os: { platform: 'linux' } } });
    t.match(bundle['status'], { health: String, modules: Array });
    t.ok((bundle['status'].modules as { name: string }[]).some((m) => m.name === 'gdt'), 'module states');
    t.match(bundle['config'], { box: { name: 'Praxisbox' }, gdt: { devices: [{ id: 'ekg1' }] }, web: { sessionMinutes: 60 } });
    t.equal(bundle['config'].localBroker.users[0].passwordHash, '[redacted]', 'broker password hash redacted');
    t.equal(bundle['config'].localBroker.users[0].name, 'pvs', 'the rest of the entry stays');
    t.match(bundle['outbox'], { depth: Number });
    t.ok(bundle['logs'].length > 20, `${bundle['logs'].length} recent log lines`);
    t.ok(JSON.stringify(bundle['logs']).includes('gdt'), 'logs of the GDT import are there');
  });

  await t.test('no patient data', async (t) => {
    t.ok(values.length >= 10);
    t.same(leakedValues(res.text, values), [], 'no fixture personal value in the bundle');
  });

  await t.test('no secrets', async (t) => {
    const deviceSecret = (await fs.readFile(path.join(box.dir, 'device-secret'), 'utf8')).trim();
    const users = JSON.parse(await fs.readFile(path.join(box.dir, 'web', 'users.json'), 'utf8')) as { users: { admin: { hash: string } } };
    const [, , , , salt, hash] = users.users.admin.hash.split('$');
    const tlsKey = await fs.readFile(path.join(box.dir, 'web', 'tls-key.pem'), 'utf8');
    const keyBody = tlsKey.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    const cookieId = (client.cookie ?? '').split('=')[1] ?? '';
    const secrets: Record<string, string> = {
      'device secret': deviceSecret,
      'setup code': code,
      'setup code without dashes': code.replace(/-/g, ''),
      'admin password': GOOD_PASSWORD,
      'admin password hash': hash ?? '',
      'admin password salt': salt ?? '',
      'broker password hash': brokerHash.split('$')[5] ?? '',
      'session id': cookieId,
      'CSRF token': client.csrf ?? '',
      ...Object.fromEntries(keyBody.map((l, i) => [`TLS key line ${i}`, l])),
    };
    for (const [what, value] of Object.entries(secrets)) {
      t.ok(value.length >= 12, `${what} is a real value`);
      t.notOk(res.text.includes(value), `${what} not in the bundle`);
    }
  });

  const audit = await fs.readFile(path.join(box.dir, 'web', 'audit.jsonl'), 'utf8');
  t.match(audit, /"event":"diagnostics.download"/);
  t.match(audit, /"command":"gdt.order"/);
  t.same(leakedValues(audit, values), [], 'no personal value in the audit log');
});
