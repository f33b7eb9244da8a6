import { writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { startPcscd, VPCD_READERS } from '../helpers/pcscd.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { RecordingOutbox, onTerminal, type Recorded } from './recording-outbox.js';
import { CardsModule } from '../../agent/cards/cards-module.js';
import { cardsConfig } from '../../agent/cards/cards-config.js';
import { createPcscDriver } from '../../agent/cards/driver.js';
import { vpcdPort } from '../../agent/cards/sim/vpcd-card.js';
import { VpcdSlot } from '../../agent/cards/sim/vpcd-slot.js';
import type { VirtualCardType } from '../../agent/cards/sim/virtual-cards.js';
import { simPerson } from '../../agent/cards/sim/sim-person.js';
import { systemClock } from '../../agent/core/clock.js';
import { isPatientData } from '../../agent/core/patient-data.js';
import { runCardRead, runSimCard, type CardsCliIo, type SimCardOptions } from '../../agent/cards/cards-cli.js';
import { PcscError } from '../../agent/cards/pcsc-driver.js';

// Every card type through real pcscd + vpcd, each broken card a clean card.error, and no person data in
// the log. All pcscd tests share one daemon per file (see test/helpers/pcscd.ts for the lock).

const person = simPerson({
  insuranceNumber: 'K305419872',
  firstName: 'Hedwig-Maren',
  lastName: 'Quastenbüttel',
  title: 'Prof. Dr.',
  birthDate: '1961-07-23',
  sex: 'W',
  street: 'Zeisigsteig',
  houseNumber: '41',
  postcode: '27498',
  city: 'Eckhusen',
  payerId: '109876543',
  payerName: 'Ausgedachte Ersatzkasse',
  coverageStart: '2015-10-01',
  insuredType: '3',
  wop: '17',
});
/** Values that must never appear in a log line. */
const PERSONAL = ['Ottilie', 'Zwirbelmann', 'Z123456783', 'K305419872', 'Hedwig', 'Maren', 'Quastenbüttel', 'Quastenb', '1961-07-23', '19610723', '23071961', '23.07.1961', 'Zeisigsteig', '27498', 'Eckhusen'];

const pcscd = await startPcscd(t);
const { dir, cleanup } = await tempDir();
t.teardown(cleanup);
const capture = captureLog('trace');
const outbox = await RecordingOutbox.open(dir, capture.log);
t.teardown(() => outbox.close());
const config = cardsConfig({
  terminals: [{ id: 'empfang', name: 'Empfang', location: 'Anmeldung', workstationIds: ['desk-1', 'desk-2'], readerName: 'Virtual PCD slot 00' }],
});
const module = new CardsModule({ log: capture.log, clock: systemClock, outbox, config: () => config, driver: createPcscDriver(), usb: false });
await module.start();
t.teardown(() => module.stop());

const unassigned = 'pcsc-virtual-pcd-slot-01';
const slots = [new VpcdSlot({ port: vpcdPort(0) }), new VpcdSlot({ port: vpcdPort(1) })] as const;
t.teardown(() => Promise.all(slots.map((s) => s.close())));
await Promise.all(slots.map((s) => s.ready()));

async function insert(type: VirtualCardType, slot: 0 | 1 = 0): Promise<{ card: VpcdSlot; events: () => Recorded[] }> {
  const from = outbox.events.length;
  const card = slots[slot];
  await card.insert({ type, person });
  return { card, events: () => outbox.events.slice(from) };
}

async function cycle(type: VirtualCardType): Promise<{ result: Recorded; sequence: string[] }> {
  const from = outbox.events.length;
  const { card } = await insert(type);
  const result = await outbox.next((e) => (e.type === 'card.read' || e.type === 'card.error') && e.data['terminalId'] === 'empfang', 10_000, from);
  await card.remove();
  await outbox.next(onTerminal('card.removed', 'empfang'), 10_000, from);
  const sequence = outbox.events.slice(from).filter((e) => e.data['terminalId'] === 'empfang').map((e) => e.type);
  return { result, sequence };
}

t.test('both vpcd readers attach: one configured, one unassigned', async (t) => {
  await outbox.next(onTerminal('terminal.attached', unassigned), 5_000, 0);
  const attached = outbox.events.filter((e) => e.type === 'terminal.attached').map((e) => e.data);
  t.same(attached, [
    { source: 'pcsc', terminalId: 'empfang', workstationIds: ['desk-1', 'desk-2'], readerName: VPCD_READERS[0], name: 'Empfang', location: 'Anmeldung', configured: true },
    { source: 'pcsc', terminalId: unassigned, workstationIds: [], readerName: VPCD_READERS[1], name: 'Virtual PCD slot 01', location: '', configured: false },
  ]);
  const list = (await module.commands()['terminals.list']?.handler({}, { source: 'internal' })) as { service: string; terminals: Array<Record<string, unknown>> };
  t.equal(list.service, 'up');
  t.same(
    list.terminals.map((v) => [v['id'], v['configured'], v['connected'], v['suggestedReaderName']]),
    [
      ['empfang', true, true, undefined],
      [unassigned, false, true, 'Virtual PCD slot 01'],
    ],
  );
  t.same(module.healthcheck(), { level: 'ok' });
});

t.test('eGK v5.2: inserted, read (complete, person wrapped), removed — in that order', async (t) => {
  const { result, sequence } = await cycle('egk');
  t.same(sequence, ['card.inserted', 'card.read', 'card.removed']);
  t.equal(result.type, 'card.read');
  const raw = result.raw as Record<string, unknown>;
  t.ok(isPatientData(raw['person']), 'person is wrapped in PatientData');
  t.ok(isPatientData(raw['coverage']), 'coverage is wrapped in PatientData');
  const d = result.data;
  t.equal(d['source'], 'pcsc');
  t.same(d['workstationIds'], ['desk-1', 'desk-2']);
  t.equal(d['cardType'], 'egk');
  t.same(d['card'], { schema: '5.2', generation: 'G2.1', objectSystemVersion: '4.5.2', vsdVersion: '5.2.0' });
  t.same(d['person'], {
    insuranceNumber: 'K305419872',
    firstName: 'Hedwig-Maren',
    lastName: 'Quastenbüttel',
    birthDate: '1961-07-23',
    sex: 'female',
    title: 'Prof. Dr.',
    address: { country: 'D', street: 'Zeisigsteig', houseNumber: '41', postcode: '27498', city: 'Eckhusen' },
  });
  t.same(d['coverage'], {
    kind: 'gkv',
    payer: { id: '109876543', name: 'Ausgedachte Ersatzkasse', countryCode: 'D' },
    start: '2015-10-01',
    insuredTypeCode: '3',
    insuredType: 'family',
    wop: '17',
  });
  t.match(d['status'], { validity: 'valid', vsdUpdatePending: false, onlineCheck: 'not-performed' });
  t.same(d['warnings'], []);
  t.type(d['readMs'], 'number');
  t.ok((d['readMs'] as number) < 3_000, 'read within 3 s');
});

for (const [type, schema, kind] of [
  ['egk51', '5.1', 'gkv'],
  ['pkv', 'pkv-1.0', 'pkv'],
  ['kvk', 'kvk', 'gkv'],
  ['kvk-pkv', 'kvk', 'pkv'],
] as const) {
  t.test(`${type} is read through pcscd`, async (t) => {
    const { result, sequence } = await cycle(type);
    t.same(sequence, ['card.inserted', 'card.read', 'card.removed']);
    t.equal((result.data['card'] as { schema: string }).schema, schema);
    t.equal((result.data['coverage'] as { kind: string }).kind, kind);
    t.equal((result.data['person'] as { lastName: string }).lastName, 'Quastenbüttel');
    t.equal((result.data['person'] as { birthDate: string }).birthDate, '1961-07-23');
  });
}

t.test('KVK with a wrong checksum: read, with the warning on the event', async (t) => {
  const { result } = await cycle('kvk-bad-checksum');
  t.equal(result.type, 'card.read');
  t.same(result.data['warnings'], [{ code: 'kvk-checksum-mismatch', message: 'the KVK checksum does not match the data' }]);
});

t.test('spurious 6B00/6986 from the terminal: re-selected, read', async (t) => {
  const { result } = await cycle('spurious-errors');
  t.equal(result.type, 'card.read');
  t.equal((result.data['person'] as { firstName: string }).firstName, 'Hedwig-Maren');
});

for (const [type, code, message] of [
  ['bad-gzip', 'invalid-data', 'EF.PD: gzip data is corrupt'],
  ['truncated', 'invalid-data', 'EF.PD: file ends before the length its header declares'],
  ['inflate-bomb', 'invalid-data', 'EF.PD: inflates beyond 65536 bytes'],
  ['xml-dtd', 'invalid-data', 'EF.PD: XML with a document type declaration is refused'],
  ['xml-entity', 'invalid-data', 'EF.PD: XML is not well-formed (line 2)'],
  ['unsupported', 'unsupported-card', 'neither an eGK nor a KVK: no known application on the card'],
] as const) {
  t.test(`broken card ${type}: one clean card.error, no card.read`, async (t) => {
    const { result, sequence } = await cycle(type);
    t.same(sequence, ['card.inserted', 'card.error', 'card.removed']);
    t.same(result.data, {
      source: 'pcsc',
      terminalId: 'empfang',
      workstationIds: ['desk-1', 'desk-2'],
      insertionId: result.data['insertionId'],
      cardType: type === 'unsupported' ? 'unknown' : 'egk',
      code,
      message,
    });
  });
}

t.test('card pulled mid-read: card.error card-removed, then card.removed', async (t) => {
  const from = outbox.events.length;
  const { card } = await insert('removed-mid-read');
  const err = await outbox.next(onTerminal('card.error', 'empfang'), 10_000, from);
  t.equal(err.data['code'], 'card-removed');
  t.equal(err.data['cardType'], 'egk');
  await outbox.next(onTerminal('card.removed', 'empfang'), 10_000, from);
  t.ok(card.pulled, 'the virtual card pulled itself');
  t.same(
    outbox.events.slice(from).map((e) => e.type),
    ['card.inserted', 'card.error', 'card.removed'],
  );
  t.notOk(outbox.events.slice(from).some((e) => e.type === 'card.read'), 'never a half-filled card.read');
});

t.test('unassigned reader: read with its generated id and no workstation; card.read command re-reads', async (t) => {
  const from = outbox.events.length;
  const { card } = await insert('egk', 1);
  const first = await outbox.next(onTerminal('card.read', unassigned), 10_000, from);
  t.same(first.data['workstationIds'], []);
  const reply = (await module.commands()['card.read']?.handler({ terminalId: unassigned }, { source: 'internal' })) as Record<string, unknown>;
  t.match(reply, { terminalId: unassigned, insertionId: first.data['insertionId'], result: 'read', cardType: 'egk' });
  const reads = outbox.events.slice(from).filter((e) => e.type === 'card.read');
  t.equal(reads.length, 2, 'a second card.read for the same insertion');
  t.same(reads[1]?.data['card'], reads[0]?.data['card'], 'the re-read starts in the MF again (generation known)');
  await card.remove();
  await outbox.next(onTerminal('card.removed', unassigned), 10_000, from);
  await t.rejects(module.reread(unassigned), { code: 'CommandRejected', message: `no card in terminal ${unassigned}` });
  await t.rejects(module.reread('nirgendwo'), { code: 'NotFound', message: 'terminal nirgendwo is not connected' });
});

t.test('CLI: sim card inserts a card built from a JSON person; card read prints it', async (t) => {
  const { dir: dataDir, cleanup: cleanData } = await tempDir();
  t.teardown(cleanData);
  const file = `${dataDir}/person.json`;
  await writeFile(file, JSON.stringify({ firstName: 'Ottilie', lastName: 'Zwirbelmann', birthDate: '1990-02-28', insuranceNumber: 'Z123456783', sex: 'D' }));
  const sim = simCardInWorker({ type: 'egk', data: file, slot: 1 });
  await outbox.next(onTerminal('card.read', unassigned), 10_000);
  t.match(sim.stdout(), /^eGK v5\.2 \(GKV\) inserted into vpcd slot 1 \(127\.0\.0\.1:35964\); Ctrl-C removes it\n$/);

  const json = sink();
  t.equal(await runCardRead({ reader: 'Virtual PCD slot 01', json: true }, json), 0);
  const parsed = JSON.parse(json.stdout()) as { reader: string; person: Record<string, unknown>; cardType: string };
  t.equal(parsed.reader, 'Virtual PCD 00 01');
  t.equal(parsed.cardType, 'egk');
  t.match(parsed.person, { firstName: 'Ottilie', lastName: 'Zwirbelmann', birthDate: '1990-02-28', sex: 'diverse', insuranceNumber: 'Z123456783' });

  const human = sink();
  t.equal(await runCardRead({ reader: 'Virtual PCD 00 01' }, human), 0);
  t.match(human.stdout(), /^Reader: +Virtual PCD 00 01\nCard: +eGK \(schema 5\.2, generation G2\.1\)\nName: +Ottilie Zwirbelmann\nBorn: +1990-02-28\n/);
  t.match(human.stdout(), /Warnings: +-\n$/);

  t.equal(await sim.stop(), 0);
  t.match(sim.stdout(), /card removed\n$/);
  await outbox.next(onTerminal('card.removed', unassigned), 10_000);
});

t.test('CLI: usage errors, no card, no PC/SC', async (t) => {
  const bad = sink();
  t.equal(await runSimCard({ type: 'gesundheitskarte' }, bad), 2);
  t.match(bad.stderr(), /unknown card type "gesundheitskarte"; one of: egk, egk51, pkv, kvk/);
  const { dir: dataDir, cleanup: cleanData } = await tempDir();
  t.teardown(cleanData);
  await writeFile(`${dataDir}/broken.json`, '{ "firstName": ');
  const badJson = sink();
  t.equal(await runSimCard({ type: 'kvk', data: `${dataDir}/broken.json` }, badJson), 2);
  t.match(badJson.stderr(), /not valid JSON/);
  await writeFile(`${dataDir}/wrong.json`, JSON.stringify({ insuranceNumber: 'nope', shoeSize: 44 }));
  const wrong = sink();
  t.equal(await runSimCard({ type: 'kvk', data: `${dataDir}/wrong.json` }, wrong), 2);
  t.match(wrong.stderr(), /invalid person description: /);
  t.notOk(wrong.stderr().includes('nope'), 'the rejected value is not echoed');

  const none = sink();
  t.equal(await runCardRead({ reader: 'Virtual PCD slot 01', waitMs: 300 }, none), 1);
  t.match(none.stderr(), /no card inserted\n$/);
  const unknownReader = sink();
  t.equal(await runCardRead({ reader: 'Lesegerät 7' }, unknownReader), 1);
  t.match(unknownReader.stderr(), /^no reader "Lesegerät 7"; readers: Virtual PCD 00 00, Virtual PCD 00 01\n$/);
  const down = sink();
  const driver = { establish: () => Promise.reject(new PcscError('no-service', 'PC/SC establish context failed: no-service')) };
  t.equal(await runCardRead({ driver }, down), 3);
  t.equal(down.stderr(), 'PC/SC not available: DeviceUnavailable: PC/SC establish context failed: no-service\n');
});

t.test('the log names terminals, codes and timings, never the person', async (t) => {
  const text = capture.text();
  t.match(text, /card in empfang read \(egk, 7 commands/);
  t.match(text, /card in empfang not read: EF.PD: XML with a document type declaration is refused/);
  for (const value of PERSONAL) t.notOk(text.includes(value), `log does not contain ${value}`);
  t.ok(pcscd.log().length > 0, 'pcscd ran with APDU logging');
});

/** `runSimCard` in a worker thread, with Ctrl-C as a message. */
function simCardInWorker(opts: SimCardOptions): { stdout: () => string; stop: () => Promise<number> } {
  let out = '';
  let exit: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (exit = resolve));
  const worker = new Worker(new URL('./sim-card-cli-worker.js', import.meta.url), { workerData: opts });
  worker.on('message', (m: { stream?: string; s?: string; code?: number }) => {
    if (m.stream === 'stdout') out += m.s ?? '';
    if (m.code !== undefined) exit(m.code);
  });
  return {
    stdout: () => out,
    stop: async () => {
      worker.postMessage('abort');
      const code = await done;
      await worker.terminate();
      return code;
    },
  };
}

function sink(): { stdout: () => string; stderr: () => string } & CardsCliIo {
  let out = '';
  let err = '';
  return {
    stdout: Object.assign(() => out, { write: (s: string) => (out += s) }),
    stderr: Object.assign(() => err, { write: (s: string) => (err += s) }),
  };
}
