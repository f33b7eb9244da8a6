import t from 'tap';
import { readCard, type ReadCardOptions } from '../../agent/cards/card-reader.js';
import { isCardReadError } from '../../agent/cards/card-errors.js';
import { memoryChannel } from '../../agent/cards/sim/memory-channel.js';
import { virtualCard, type VirtualCardType } from '../../agent/cards/sim/virtual-cards.js';
import { simPerson } from '../../agent/cards/sim/sim-person.js';
import { describeCommand } from '../../agent/cards/apdu.js';

const base: ReadCardOptions = { source: 'pcsc', apduMode: 'short', retries: 2, today: '2026-03-02' };

const person = simPerson({
  insuranceNumber: 'J012345677',
  firstName: 'Jörg-Ütz',
  lastName: 'Weißbäcker',
  title: 'Dr.',
  namePrefix: 'von',
  birthDate: '1958-12-00',
  sex: 'M',
  street: 'Straße des 17. Juni',
  houseNumber: '10d',
  postcode: '10999',
  city: 'Berlin',
  payerId: '109999990',
  payerName: 'Erfundene BKK Süd',
  coverageStart: '2001-04-01',
  coverageEnd: '2029-12-31',
  insuredType: '5',
  wop: '72',
});

async function read(type: VirtualCardType, options: Partial<ReadCardOptions> = {}) {
  const card = virtualCard(type, { person, now: new Date(2026, 0, 15, 8, 30, 0) });
  const detected: string[] = [];
  const outcome = await readCard(memoryChannel(card), { ...base, ...options, onDetected: (type) => detected.push(type) });
  return { outcome, card, detected };
}

t.test('eGK v5.2 (GKV): every field, generation, status, seven APDUs with short reads', async (t) => {
  const { outcome, card, detected } = await read('egk');
  t.same(detected, ['egk']);
  const r = outcome.record;
  t.equal(r.cardType, 'egk');
  t.same(r.card, { schema: '5.2', generation: 'G2.1', objectSystemVersion: '4.5.2', vsdVersion: '5.2.0' });
  t.same(r.person, {
    insuranceNumber: 'J012345677',
    firstName: 'Jörg-Ütz',
    lastName: 'Weißbäcker',
    birthDate: '1958-12',
    sex: 'male',
    namePrefix: 'von',
    title: 'Dr.',
    address: { country: 'D', street: 'Straße des 17. Juni', houseNumber: '10d', postcode: '10999', city: 'Berlin' },
  });
  t.same(r.coverage, {
    kind: 'gkv',
    payer: { id: '109999990', name: 'Erfundene BKK Süd', countryCode: 'D' },
    start: '2001-04-01',
    end: '2029-12-31',
    insuredTypeCode: '5',
    insuredType: 'pensioner',
    wop: '72',
  });
  t.same(r.status, { validity: 'valid', vsdUpdatePending: false, onlineCheck: 'not-performed', vsdWrittenAt: '2026-01-15T08:30:00' });
  t.same(r.warnings, []);
  t.equal(outcome.apdus, 7);
  t.same(card.log.map(describeCommand), [
    'READ BINARY 91 00',
    'SELECT 04 0c',
    'READ BINARY 8c 00',
    'READ BINARY 81 00',
    'READ BINARY 00 fc',
    'READ BINARY 82 00',
    'READ BINARY 00 fc',
  ]);
});

t.test('generation: a card not reset since DF.HCA was selected is asked again in its MF; G1 has no EF.Version2', async (t) => {
  const card = virtualCard('egk', { person });
  const channel = memoryChannel(card);
  await readCard(channel, base);
  const again = await readCard(channel, base);
  t.equal(again.record.card.generation, 'G2.1');
  t.equal(again.apdus, 9, 'SELECT MF and READ EF.Version2 once more');
  const g1 = virtualCard('egk', { person });
  g1.image.mf.length = 0;
  const old = await readCard(memoryChannel(g1), base);
  t.equal(old.record.card.generation, 'G1');
  t.equal(old.record.card.objectSystemVersion, undefined);
});

t.test('extended length: the same card in five APDUs; auto mode probes and remembers', async (t) => {
  const ext = await read('egk', { apduMode: 'extended' });
  t.equal(ext.outcome.apdus, 5);
  t.equal(ext.outcome.extendedLength, true);
  const auto = await read('egk', { apduMode: 'auto' });
  t.equal(auto.outcome.apdus, 5);
  t.equal(auto.outcome.extendedLength, true);
  t.same(auto.outcome.record.person, ext.outcome.record.person);

  const card = virtualCard('egk', { person, extendedLength: false });
  const fallback = await readCard(memoryChannel(card), { ...base, apduMode: 'auto' });
  t.equal(fallback.extendedLength, false, 'a card answering 6700 makes auto fall back to short reads');
  t.equal(fallback.record.person.lastName, 'Weißbäcker');
  t.equal(fallback.apdus, 8, 'one failed probe on top of the short plan');
});

t.test('eGK v5.1 and PKV eGK', async (t) => {
  const v51 = (await read('egk51')).outcome.record;
  t.equal(v51.card.schema, '5.1');
  t.equal(v51.card.generation, 'G2');
  t.equal(v51.person.lastName, 'Weißbäcker');
  t.equal(v51.coverage.kind, 'gkv');
  t.equal(v51.coverage.wop, '72');
  t.equal(v51.coverage.insuredType, 'pensioner');

  const pkv = (await read('pkv')).outcome.record;
  t.equal(pkv.card.schema, 'pkv-1.0');
  t.same(pkv.coverage, {
    kind: 'pkv',
    payer: { id: '109999990', name: 'Erfundene BKK Süd', countryCode: 'D' },
    start: '2001-04-01',
    end: '2029-12-31',
    pkvTariff: '01',
  });
});

t.test('KVK, PKV memory card and the old AID', async (t) => {
  const kvk = await read('kvk');
  t.same(kvk.detected, ['kvk']);
  const r = kvk.outcome.record;
  t.equal(r.cardType, 'kvk');
  t.same(r.card, { schema: 'kvk' });
  t.same(r.person, {
    insuranceNumber: 'J012345677',
    firstName: 'Jörg-Ütz',
    lastName: 'Weißbäcker',
    birthDate: '1958-12',
    title: 'Dr.',
    address: { country: 'D', street: 'Straße des 17. Juni 10d', postcode: '10999', city: 'Berlin' },
  });
  t.same(r.coverage, {
    kind: 'gkv',
    payer: { id: '9999990', name: 'Erfundene BKK Süd' },
    insuredTypeCode: '5',
    insuredType: 'pensioner',
    wop: '72',
    vknr: '72101',
    cardValidUntil: '2031-12',
  });
  t.same(r.status, { validity: 'valid', onlineCheck: 'not-performed' });
  t.same(r.warnings, []);
  t.equal(kvk.outcome.apdus, 4, 'Version2 probe, SELECT HCA (fails), SELECT KVK, READ');

  const pkv = (await read('kvk-pkv')).outcome.record;
  t.equal(pkv.coverage.kind, 'pkv');
  t.equal(pkv.person.personNumber, '01');
  t.equal(pkv.coverage.insuredType, undefined);

  const old = await read('kvk-old-aid');
  t.equal(old.outcome.record.person.lastName, 'Weißbäcker');
  t.equal(old.outcome.apdus, 5);
});

t.test('spurious 6B00 / 6986 mid-file: re-select and retry, same data', async (t) => {
  const { outcome, card } = await read('spurious-errors');
  t.equal(outcome.record.person.lastName, 'Weißbäcker');
  const names = card.log.map(describeCommand);
  t.ok(names.includes('SELECT 02 0c'), 'the EF was selected again by FID');
  t.equal(outcome.apdus, 7 + 3 + 2, 'offset retry: SELECT HCA, SELECT EF, read again; SFI retry: SELECT HCA, read again');
});

t.test('broken cards end in CardReadError with the right code and no card data in the message', async (t) => {
  const cases: Array<[VirtualCardType, string, RegExp]> = [
    ['bad-gzip', 'invalid-data', /EF\.PD: gzip data is corrupt/],
    ['truncated', 'invalid-data', /EF\.PD: file ends before the length its header declares/],
    ['inflate-bomb', 'invalid-data', /EF\.PD: inflates beyond 65536 bytes/],
    ['xml-dtd', 'invalid-data', /EF\.PD: XML with a document type declaration is refused/],
    ['xml-entity', 'invalid-data', /EF\.PD: XML is not well-formed/],
    ['removed-mid-read', 'removed', /virtual card removed/],
    ['unsupported', 'unsupported-card', /neither an eGK nor a KVK/],
  ];
  for (const [type, code, message] of cases) {
    const card = virtualCard(type, { person });
    const err = await readCard(memoryChannel(card), base).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (code === 'removed') {
      t.match(err, { name: 'SimCardRemovedError' }, type);
      continue;
    }
    t.ok(isCardReadError(err), `${type} fails with a CardReadError`);
    if (!isCardReadError(err)) continue;
    t.equal(err.cardCode, code, type);
    t.match(err.message, message, type);
    for (const value of ['Weißbäcker', 'Jörg', 'J012345677', '1958', 'Juni', '10999', 'Expanded']) {
      t.notOk(err.message.includes(value), `${type}: message carries no card data`);
    }
  }
});

t.test('KVK with a wrong checksum is read, with a warning', async (t) => {
  const { outcome } = await read('kvk-bad-checksum');
  t.equal(outcome.record.person.lastName, 'Weißbäcker');
  t.same(outcome.record.warnings, [{ code: 'kvk-checksum-mismatch', message: 'the KVK checksum does not match the data' }]);
});

t.test('validity follows the coverage dates and the KVK month', async (t) => {
  t.equal((await read('egk', { today: '2030-01-01' })).outcome.record.status.validity, 'expired');
  t.equal((await read('egk', { today: '2001-03-31' })).outcome.record.status.validity, 'not-yet-valid');
  t.equal((await read('kvk', { today: '2031-12-31' })).outcome.record.status.validity, 'valid');
  t.equal((await read('kvk', { today: '2032-01-01' })).outcome.record.status.validity, 'expired');
});
