import { gzipSync } from 'node:zlib';
import t from 'tap';
import { inflateVsd, parseStatusVd, parseVersion2, pdLength, vdOffsets } from '../../agent/cards/vsd-container.js';
import { statusVdBytes, version2Bytes } from '../../agent/cards/sim/egk-image.js';
import { readBinary, readBinarySfi, selectAid, selectEf, parseResponse, describeCommand, AID_HCA } from '../../agent/cards/apdu.js';
import { insurantIdCheckDigit, isValidInsurantId, isoFromCompactDate, validityOn, localIsoDate } from '../../agent/cards/insured-person.js';
import { isCardReadError } from '../../agent/cards/card-errors.js';

const msg = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return isCardReadError(err) ? err.message : String(err);
  }
};

t.test('EF.StatusVD: status, timestamp, BCD schema version', async (t) => {
  t.same(parseStatusVd(statusVdBytes(false, new Date(2025, 10, 3, 14, 5, 9), '5.2.0')), { updatePending: false, unknownStatus: false, writtenAt: '2025-11-03T14:05:09', version: '5.2.0' });
  t.same(parseStatusVd(statusVdBytes(true, new Date(2024, 0, 1), '1.0.0')), { updatePending: true, unknownStatus: false, writtenAt: '2024-01-01T00:00:00', version: '1.0.0' });
  const odd = statusVdBytes(false, new Date(2024, 0, 1), '5.1.0');
  odd[0] = 0x39;
  odd[5] = 0x41;
  odd[15] = 0xff;
  t.same(parseStatusVd(odd), { updatePending: false, unknownStatus: true });
  t.equal(msg(() => parseStatusVd(new Uint8Array(10))), 'EF.StatusVD: shorter than 15 bytes');
});

t.test('EF.Version2: object system version → generation', async (t) => {
  t.same(parseVersion2(version2Bytes([4, 5, 2])), { generation: 'G2.1', objectSystemVersion: '4.5.2' });
  t.same(parseVersion2(version2Bytes([4, 0, 1])), { generation: 'G2', objectSystemVersion: '4.0.1' });
  t.same(parseVersion2(version2Bytes([3, 0, 3])), { generation: 'unknown', objectSystemVersion: '3.0.3' });
  t.same(parseVersion2(Uint8Array.from([0xef, 0x10, 0xc1])), { generation: 'unknown' }, 'broken TLV');
  t.same(parseVersion2(new Uint8Array(0)), { generation: 'unknown' });
});

t.test('length and offset headers', async (t) => {
  t.equal(pdLength(Uint8Array.from([0x01, 0x2c])), 300);
  t.equal(msg(() => pdLength(Uint8Array.from([0, 0]))), 'EF.PD: empty');
  t.equal(msg(() => pdLength(Uint8Array.from([1]))), 'EF.PD: length header missing');
  t.same(vdOffsets(Uint8Array.from([0, 8, 1, 0x2b, 0xff, 0xff, 0xff, 0xff])), { start: 8, end: 299 });
  t.equal(msg(() => vdOffsets(Uint8Array.from([0, 4, 1, 0, 0, 0, 0, 0]))), 'EF.VD: offset header is inconsistent');
  t.equal(msg(() => vdOffsets(Uint8Array.from([0, 9, 0, 8, 0, 0, 0, 0]))), 'EF.VD: offset header is inconsistent');
  t.equal(msg(() => vdOffsets(Uint8Array.from([0, 9]))), 'EF.VD: offset header missing');
});

t.test('inflate: capped, corrupt and non-gzip data refused', async (t) => {
  t.equal(Buffer.from(inflateVsd(gzipSync('<x/>'), 'EF.PD')).toString(), '<x/>');
  t.equal(msg(() => inflateVsd(gzipSync(Buffer.alloc(10_000)), 'EF.PD', 1_000)), 'EF.PD: inflates beyond 1000 bytes');
  t.equal(msg(() => inflateVsd(Buffer.from('<?xml version="1.0"?><just-text/>'), 'EF.VD')), 'EF.VD: not gzip data');
  const g = gzipSync(Buffer.from('a'.repeat(500)));
  t.equal(msg(() => inflateVsd(g.subarray(0, g.length - 6), 'EF.VD')), 'EF.VD: gzip data is corrupt');
});

t.test('APDU builders', async (t) => {
  t.same([...selectAid(AID_HCA)], [0x00, 0xa4, 0x04, 0x0c, 0x06, 0xd2, 0x76, 0x00, 0x00, 0x01, 0x02]);
  t.same([...selectEf(0xd001)], [0x00, 0xa4, 0x02, 0x0c, 0x02, 0xd0, 0x01]);
  t.same([...readBinarySfi(0x0c, 0, 25)], [0x00, 0xb0, 0x8c, 0x00, 0x19]);
  t.same([...readBinarySfi(0x01, 0, 0xfc)], [0x00, 0xb0, 0x81, 0x00, 0xfc]);
  t.same([...readBinary(0x1fc, 0x100)], [0x00, 0xb0, 0x01, 0xfc, 0x00], 'Le 256 is the short 00');
  t.same([...readBinary(0, 0xffff)], [0x00, 0xb0, 0x00, 0x00, 0x00, 0xff, 0xff], 'extended Le');
  t.throws(() => readBinarySfi(0x01, 256, 1), RangeError);
  t.throws(() => readBinary(0x8000, 1), RangeError);
  t.throws(() => readBinary(0, 0), RangeError);
  t.same(parseResponse(Uint8Array.from([1, 2, 0x62, 0x82])), { data: Uint8Array.from([1, 2]), sw: 0x6282 });
  t.equal(parseResponse(Uint8Array.from([0x90])).sw, 0);
  t.equal(describeCommand(readBinarySfi(2, 0, 8)), 'READ BINARY 82 00');
});

t.test('Versicherten-ID check digit, partial dates, validity', async (t) => {
  t.equal(insurantIdCheckDigit('J012345677'), 7);
  t.equal(insurantIdCheckDigit('O567890128'), 8);
  t.ok(isValidInsurantId('A123456780'));
  t.notOk(isValidInsurantId('X587241855'), "gematik's eEB sample id has a wrong check digit");
  t.notOk(isValidInsurantId('a123456780'));
  t.equal(insurantIdCheckDigit('12'), undefined);
  t.equal(isoFromCompactDate('19580000'), '1958');
  t.equal(isoFromCompactDate('19581200'), '1958-12');
  t.equal(isoFromCompactDate('19580012'), undefined, 'a day without a month is no date');
  t.equal(isoFromCompactDate('20240229'), '2024-02-29');
  t.equal(isoFromCompactDate('20230229'), undefined);
  const cov = { kind: 'gkv' as const, payer: { id: '1', name: 'x' } };
  t.equal(validityOn(cov, '2024-01-01'), 'unknown');
  t.equal(validityOn({ ...cov, start: '2024-01-02' }, '2024-01-01'), 'not-yet-valid');
  t.equal(validityOn({ ...cov, start: '2020-01-01', end: '2023-12-31' }, '2024-01-01'), 'expired');
  t.equal(validityOn({ ...cov, start: '2020-01-01', end: '2024-01-01' }, '2024-01-01'), 'valid', 'the end day is still covered');
  t.equal(validityOn({ ...cov, cardValidUntil: '2024-01' }, '2024-01-31'), 'valid');
  t.equal(localIsoDate(new Date(2026, 2, 9, 23, 59).getTime()), '2026-03-09');
});
