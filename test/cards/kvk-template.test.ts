import t from 'tap';
import { parseKvk, kvkChecksum } from '../../agent/cards/kvk-template.js';
import { readTlv, readTlvs, encodeTlv, TlvError } from '../../agent/cards/ber-tlv.js';
import { kvkTemplate } from '../../agent/cards/sim/kvk-image.js';
import { simPerson } from '../../agent/cards/sim/sim-person.js';
import { encodeDin66003 } from '../../agent/text/din66003.js';
import { isCardReadError } from '../../agent/cards/card-errors.js';

const person = simPerson({
  firstName: 'Jürgen',
  lastName: 'Größlinger',
  nameSuffix: 'Freiherr',
  birthDate: '1950-00-00',
  street: 'Am Bärenzwinger',
  houseNumber: '3',
  postcode: '01067',
  city: 'Dresden',
  payerId: '108877665',
  payerName: 'Erfundene AOK',
  insuredType: '1',
  wop: '98',
  kvkValidUntil: '2004-06',
});

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isCardReadError(err)) return `${err.cardCode}: ${err.message}`;
    throw err;
  }
  return 'no error';
}

t.test('a KVK template: DIN 66003 text, dates, VKNR, checksum', async (t) => {
  const kvk = parseKvk(kvkTemplate(person));
  t.equal(kvk.checksum, 'ok');
  t.same(kvk.person, {
    insuranceNumber: person.insuranceNumber,
    firstName: 'Jürgen',
    lastName: 'Größlinger',
    birthDate: '1950',
    nameSuffix: 'Freiherr',
    address: { country: 'D', street: 'Am Bärenzwinger 3', postcode: '01067', city: 'Dresden' },
  });
  t.same(kvk.coverage, {
    kind: 'gkv',
    payer: { id: '8877665', name: 'Erfundene AOK' },
    insuredTypeCode: '1',
    insuredType: 'member',
    wop: '98',
    vknr: '98101',
    cardValidUntil: '2004-06',
  });
  t.same(kvk.warnings, []);
});

t.test('a terminal that returns ATR and directory first: the template is found after 30 bytes', async (t) => {
  const withAtr = Buffer.concat([Buffer.from([0x92, 0x23, 0x10, 0x91]), Buffer.alloc(26, 0xff), kvkTemplate(person), Buffer.alloc(20)]);
  t.equal(parseKvk(withAtr).person.lastName, 'Größlinger');
});

t.test('checksum: mismatch and absence are warnings; XOR over tag 60 through the checksum byte', async (t) => {
  const bad = kvkTemplate(person, { corruptChecksum: 1 });
  const r = parseKvk(bad);
  t.equal(r.checksum, 'mismatch');
  t.same(r.warnings, [{ code: 'kvk-checksum-mismatch', message: 'the KVK checksum does not match the data' }]);
  const tpl = kvkTemplate(person);
  const outer = readTlv(tpl, 0).tlv;
  const fields = readTlvs(tpl, outer.valueOffset, outer.valueOffset + outer.value.length);
  const checksum = fields.find((f) => f.tag === 0x8e);
  t.equal(kvkChecksum(tpl, checksum, 0), 'ok');
  let x = 0;
  for (const b of tpl) x ^= b;
  t.equal(x, 0, 'the XOR of the whole template including the checksum is zero');
  // Without tag 8E: rebuild the template from the other fields.
  const noSum = encodeTlv(0x60, Buffer.concat(fields.filter((f) => f.tag !== 0x8e).map((f) => encodeTlv(f.tag, f.value))));
  const r2 = parseKvk(noSum);
  t.equal(r2.checksum, 'missing');
  t.same(r2.warnings.map((w) => w.code), ['kvk-checksum-missing']);
});

t.test('PKV memory card: zeroed insurer number, person number in tag 83', async (t) => {
  const r = parseKvk(kvkTemplate(person, { pkv: true }));
  t.equal(r.coverage.kind, 'pkv');
  t.equal(r.person.personNumber, '01');
  t.equal(r.coverage.insuredTypeCode, undefined);
});

t.test('garbage is invalid data, naming the field', async (t) => {
  const field = (tag: number, text: string): Uint8Array => encodeTlv(tag, encodeDin66003(text));
  const tpl = (...fields: Uint8Array[]): Uint8Array => encodeTlv(0x60, Buffer.concat(fields));
  const base = [field(0x80, 'Kasse'), field(0x81, '1234567'), field(0x82, '123456789'), field(0x85, 'Vor'), field(0x87, 'Nach'), field(0x88, '01021960')];
  t.equal(message(() => parseKvk(Uint8Array.from([0x61, 0x00]))), 'invalid-data: KVK: no data template (tag 60) found');
  t.equal(message(() => parseKvk(Uint8Array.from([0x60, 0x05, 0x80, 0x10, 0x41]))), 'invalid-data: KVK: template is not valid BER-TLV');
  t.equal(message(() => parseKvk(tpl(...base.slice(1)))), 'invalid-data: KVK: insurer name missing');
  t.equal(message(() => parseKvk(tpl(...base.slice(0, 5), field(0x88, '31021960')))), 'invalid-data: KVK: birth date is not a date (TTMMJJJJ)');
  t.equal(message(() => parseKvk(tpl(...base, encodeTlv(0x85, Uint8Array.from([0xc4]))))), 'invalid-data: KVK: tag 85 appears twice');
  t.equal(message(() => parseKvk(tpl(...base.slice(0, 3), encodeTlv(0x85, Uint8Array.from([0x41, 0xc4])), ...base.slice(4)))), 'invalid-data: KVK: first name is not DIN 66003 text');
  t.equal(message(() => parseKvk(tpl(...base, field(0x8d, '1399')))), 'invalid-data: KVK: valid-until date is not MMJJ');
  t.equal(message(() => parseKvk(tpl(...base, field(0x8f, '9x')))), 'invalid-data: KVK: VKNR has an invalid format');
  t.equal(message(() => parseKvk(tpl(field(0x80, 'K'), field(0x81, '12AB567'), ...base.slice(2)))), 'invalid-data: KVK: insurer number has an invalid format');
  const minimal = parseKvk(tpl(...base));
  t.same(minimal.warnings.map((w) => w.code), ['kvk-checksum-missing', 'no-address', 'kvk-no-validity']);
  t.equal(minimal.person.birthDate, '1960-02-01');
});

t.test('BER-TLV edge cases', async (t) => {
  t.throws(() => readTlv(Uint8Array.from([]), 0), TlvError);
  t.throws(() => readTlv(Uint8Array.from([0x80]), 0), { message: 'length missing at offset 1' });
  t.throws(() => readTlv(Uint8Array.from([0x80, 0x83, 0, 0, 1]), 0), { message: 'unsupported length byte 0x83 at offset 1' });
  t.throws(() => readTlv(Uint8Array.from([0x9f]), 0), { message: 'second tag byte missing at offset 1' });
  const two = readTlv(Uint8Array.from([0x9f, 0x21, 0x01, 0xaa]), 0).tlv;
  t.equal(two.tag, 0x9f21);
  const long = encodeTlv(0x80, new Uint8Array(300));
  t.same([...long.subarray(0, 4)], [0x80, 0x82, 0x01, 0x2c]);
  t.equal(readTlv(long, 0).tlv.value.length, 300);
  const mid = encodeTlv(0x80, new Uint8Array(200));
  t.same([...mid.subarray(0, 3)], [0x80, 0x81, 200]);
});
