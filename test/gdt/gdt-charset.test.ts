import t from 'tap';
import { parseGdt, writeGdt } from '../../agent/gdt/codec/index.js';
import type { GdtIssue } from '../../agent/gdt/codec/index.js';
import { gdtFile, masterData } from './gdt-build.js';

const codes = (warnings: readonly GdtIssue[]): Array<[string, number, string?]> =>
  warnings.map((w) => (w.field === undefined ? [w.code, w.line] : [w.code, w.line, w.field]));
const value = (bytes: Buffer, id: string): string | undefined => parseGdt(bytes).records[0]?.fields.find((f) => f.id === id)?.value;
/** A valid file whose 3101 carries `raw` bytes (the LLL counts bytes). */
const withName = (raw: Buffer, charsetCode?: string): Buffer => {
  const head = gdtFile(masterData([], charsetCode)).toString('latin1').replace(/0148100\d{5}/, '0148100auto!');
  const line = Buffer.concat([Buffer.from(`${String(raw.length + 9).padStart(3, '0')}3101`, 'latin1'), raw, Buffer.from('\r\n')]);
  const body = Buffer.concat([Buffer.from(head, 'latin1'), line]);
  // The placeholder is as long as the 5 digits, so the file's length is the record's size.
  return Buffer.from(body.toString('latin1').replace('auto!', String(body.length).padStart(5, '0')), 'latin1');
};

t.test('9206=1: 7-bit DIN 66003, decoded and written back', async (t) => {
  const bytes = withName(Buffer.from('M}ller-L{demann @3 [RZTE ~', 'latin1'), '1');
  const r = parseGdt(bytes, { strict: true });
  t.equal(r.charset, '7bit');
  t.equal(r.records[0]?.fields.at(-1)?.value, 'Müller-Lädemann §3 ÄRZTE ß');
  t.same(writeGdt(r.records), bytes, 'written back byte for byte');
  t.throws(() => writeGdt([{ fields: [{ id: '8000', value: '6301' }, { id: '9206', value: '1' }, { id: '3101', value: 'a@b' }] }]), {
    code: 'InvalidInput',
    message: 'record 1, field 3 (3101): character U+0040 at position 1 cannot be written in 7bit',
  });
});

t.test('9206=1 but 8-bit bytes: read as CP437 with a warning', async (t) => {
  const r = parseGdt(withName(Buffer.from([0x4d, 0x81, 0x6c]), '1'));
  t.equal(r.charset, 'cp437');
  t.equal(r.declaredCharset, '7bit');
  t.equal(r.records[0]?.fields.at(-1)?.value, 'Mül');
  t.same(codes(r.warnings), [['charset-mismatch', 5, '9206']]);
  t.equal(r.warnings[0]?.message, '9206 declares 7bit, but the file has 8-bit bytes; read as cp437');
});

t.test('CP437: with 9206=2 and without 9206 (the GDT default)', async (t) => {
  const raw = Buffer.from([0x4d, 0x81, 0x6c, 0x6c, 0x65, 0x72, 0x20, 0xe1, 0x20, 0xe6, 0x67, 0x20, 0xc4, 0xc4]);
  for (const code of ['2', undefined]) {
    const r = parseGdt(withName(raw, code), { strict: true });
    t.equal(r.charset, 'cp437');
    t.equal(r.records[0]?.fields.at(-1)?.value, 'Müller ß µg ──', `9206=${code}`);
  }
});

t.test('ISO-8859-1 read as Windows-1252: every byte decodes and writes back', async (t) => {
  t.equal(value(withName(Buffer.from([0x80, 0x20, 0x84, 0x93, 0x20, 0xfc, 0x20, 0x81]), '3'), '3101'), '€ „“ ü \u0081');
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x0a && b !== 0x0d));
  for (const code of ['2', '3']) {
    const bytes = withName(all, code);
    const r = parseGdt(bytes, { strict: true });
    t.equal(r.records[0]?.fields.at(-1)?.value.length, 254, `9206=${code}: one character per byte`);
    t.same(writeGdt(r.records), bytes, `9206=${code}: all 254 content bytes round-trip`);
  }
});

t.test('UTF-8 under a wrong or missing label is detected', async (t) => {
  for (const code of ['3', '2', undefined]) {
    const r = parseGdt(withName(Buffer.from('Größe – 5 €', 'utf8'), code));
    t.equal(r.charset, 'utf-8', `9206=${code}`);
    t.equal(r.records[0]?.fields.at(-1)?.value, 'Größe – 5 €');
    t.same(codes(r.warnings).map((w) => w[0]), ['charset-mismatch']);
  }
  // CP437 "ßäö" is valid UTF-8 (U+1114) but not text a German practice writes: stays CP437.
  const r = parseGdt(withName(Buffer.from([0xe1, 0x84, 0x94]), '2'), { strict: true });
  t.equal(r.charset, 'cp437');
  t.equal(r.records[0]?.fields.at(-1)?.value, 'ßäö');
  // LLL counts bytes also in mislabelled UTF-8: a character-counted prefix is a warning.
  const charCounted = Buffer.from(gdtFile(masterData([['3101', 'Größe']], '3')).toString('latin1'), 'latin1');
  const utf8 = Buffer.from(charCounted.toString('latin1'), 'utf8');
  t.same(codes(parseGdt(utf8).warnings).map((w) => w[0]).sort(), ['charset-mismatch', 'length-prefix', 'record-size']);
});

t.test('a UTF-8 byte order mark', async (t) => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const utf8 = parseGdt(Buffer.concat([bom, withName(Buffer.from('Jörg', 'utf8'), '3')]));
  t.equal(utf8.charset, 'utf-8');
  t.equal(utf8.records[0]?.fields.at(-1)?.value, 'Jörg');
  t.same(utf8.warnings.map((w) => w.message), ['the file starts with a UTF-8 byte order mark']);
  const ascii = parseGdt(Buffer.concat([bom, gdtFile(masterData())]));
  t.equal(ascii.charset, 'cp437');
  t.same(codes(ascii.warnings), [['charset-mismatch', 1]]);
});

t.test('unknown and conflicting 9206 codes', async (t) => {
  const unknown = parseGdt(withName(Buffer.from([0x81]), '7'));
  t.equal(unknown.charset, 'cp437');
  t.equal(unknown.declaredCharset, undefined);
  t.same(codes(unknown.warnings), [['charset-label', 5, '9206']]);
  const two = Buffer.concat([gdtFile(masterData([], '3')), gdtFile(masterData([], '2'))]);
  const r = parseGdt(two);
  t.equal(r.charset, 'iso-8859-1', 'the first 9206 decides for the whole file');
  t.same(codes(r.warnings), [['charset-label', 12, '9206']]);
});
