import t from 'tap';
import { GdtRuleError, parseGdt } from '../../agent/gdt/codec/index.js';
import type { GdtIssue } from '../../agent/gdt/codec/index.js';
import { gdtFile, masterData } from './gdt-build.js';

const codes = (warnings: readonly GdtIssue[]): Array<[string, number, string?]> =>
  warnings.map((w) => (w.field === undefined ? [w.code, w.line] : [w.code, w.line, w.field]));

t.test('a valid record: fields in order, 8100 as framing, no warnings', async (t) => {
  const r = parseGdt(gdtFile(masterData([['3101', 'Mustermann'], ['3102', '']])), { strict: true });
  t.same(r.records, [
    { fields: [
      { id: '8000', value: '6301' }, { id: '8315', value: 'EKG_TYP1' }, { id: '8316', value: 'PRAX_EDV' }, { id: '9218', value: '02.10' },
      { id: '3000', value: '2345' }, { id: '3101', value: 'Mustermann' }, { id: '3102', value: '' },
    ] },
  ]);
  t.same(r.frames, [{ startLine: 1, fieldLines: [1, 3, 4, 5, 6, 7, 8], declaredSize: 116, size: 116 }]);
  t.equal(r.charset, 'cp437');
  t.equal(r.declaredCharset, undefined);
  t.same(r.warnings, []);
});

t.test('line ends: CRLF, LF, CR, mixed, and a missing final newline', async (t) => {
  const lines = masterData([['3101', 'Muster']]);
  for (const [eol, ending] of [['\r\n', 'crlf'], ['\n', 'lf'], ['\r', 'cr']] as const) {
    const r = parseGdt(gdtFile(lines, eol));
    t.equal(r.lineEnding, ending, ending);
    t.equal(r.records[0]?.fields.length, 6);
    t.same(codes(r.warnings), ending === 'crlf' ? [] : [['line-ending', 1]], `${ending}: one warning, at the first line`);
  }
  const noFinal = parseGdt(gdtFile(lines, '\r\n', false));
  t.same(codes(noFinal.warnings), [['final-newline', 7]]);
  t.equal(noFinal.records[0]?.fields.at(-1)?.value, 'Muster');

  // One LF-only line in a CRLF file, and a lone CR: both still end their lines.
  const mixed = Buffer.from(gdtFile(lines).toString('latin1').replace('\r\n0143000', '\n0143000').replace('\r\n0153101', '\r0153101'), 'latin1');
  const m = parseGdt(mixed);
  t.equal(m.lineEnding, 'mixed');
  t.same(codes(m.warnings), [['line-ending', 6]]);
  t.same(m.records[0]?.fields.map((f) => f.value), ['6301', 'EKG_TYP1', 'PRAX_EDV', '02.10', '2345', 'Muster']);
});

t.test('wrong LLL and wrong 8100 are warnings with line numbers; strict throws them', async (t) => {
  const bytes = gdtFile([['8000', '6301'], ['8100', '00999'], ['9218', '02.10'], ['3101', 'Mustermann', '017'], ['3102', 'Franz', 'x1z']]);
  const r = parseGdt(bytes);
  t.same(r.records[0]?.fields.map((f) => f.value), ['6301', '02.10', 'Mustermann', 'Franz'], 'content is taken from the line, not from LLL');
  t.same(codes(r.warnings), [['record-size', 2, '8100'], ['length-prefix', 4, '3101'], ['length-prefix', 5, '3102']]);
  t.equal(r.warnings[1]?.message, 'length prefix says 17 bytes, the line has 19 (content + 9)');
  t.equal(r.warnings[2]?.message, 'length prefix is not a 3-digit number; the line has 14 bytes (content + 9)');
  t.equal(r.warnings[0]?.message, '8100 says 999 bytes, the record has 74');
  const err = t.throws(() => parseGdt(bytes, { strict: true }));
  t.ok(err instanceof GdtRuleError);
  if (!(err instanceof GdtRuleError)) return;
  t.equal(err.code, 'InvalidInput');
  t.same(err.issues, r.warnings);
  t.equal(
    err.message,
    'GDT file breaks the rules: line 2, field 8100: 8100 says 999 bytes, the record has 74; line 4, field 3101: length prefix says 17 bytes, the line has 19 (content + 9); line 5, field 3102: length prefix is not a 3-digit number; the line has 14 bytes (content + 9)',
  );
  t.notMatch(err.message, /Muster|Franz/);
  t.same(err.details, { issues: [{ code: 'record-size', line: 2, field: '8100' }, { code: 'length-prefix', line: 4, field: '3101' }, { code: 'length-prefix', line: 5, field: '3102' }] });
});

t.test('8100 missing, unreadable, misplaced or repeated', async (t) => {
  const missing = parseGdt(gdtFile([['8000', '6301'], ['9218', '02.10']]));
  t.same(codes(missing.warnings), [['record-size', 1]]);
  t.equal(missing.warnings[0]?.message, 'record has no 8100; it is 27 bytes');
  t.equal(missing.frames[0]?.declaredSize, undefined);

  const unreadable = parseGdt(gdtFile([['8000', '6301'], ['8100', '12a45'], ['9218', '02.10']]));
  t.same(codes(unreadable.warnings), [['record-size', 2, '8100']]);
  t.equal(unreadable.warnings[0]?.message, '8100 is not a 5-digit number');

  const late = parseGdt(gdtFile([['8000', '6301'], ['9218', '02.10'], ['8100', '00041']]));
  t.same(codes(late.warnings), [['field-order', 3, '8100']]);

  const twice = parseGdt(gdtFile([['8000', '6301'], ['8100', '00055'], ['9218', '02.10'], ['8100', '00055']]));
  t.same(codes(twice.warnings), [['record-size', 4, '8100']]);
  t.same(twice.records[0]?.fields.map((f) => f.id), ['8000', '9218']);
});

t.test('several records, blank lines, version and record type checks', async (t) => {
  const bytes = gdtFile([
    ...masterData([['3101', 'A']]),
    '',
    '   ',
    ['8000', '6311'], ['8100', 'auto'], ['9218', '03.00'], ['3000', '1'],
    ['8000', '6200'], ['8100', '00039'], ['9218', '2.1'],
    ['8000', '6302'], ['8100', '00027'],
  ]);
  const r = parseGdt(bytes);
  t.same(r.records.map((rec) => rec.fields[0]?.value), ['6301', '6311', '6200', '6302']);
  t.same(r.frames.map((f) => f.startLine), [1, 10, 14, 17]);
  t.same(codes(r.warnings), [['blank-line', 8], ['blank-line', 9], ['record-type', 14, '8000'], ['version', 16, '9218'], ['version', 17]]);
  t.equal(r.warnings[2]?.message, 'record type is not one GDT defines (6300–6303, 6310, 6311)');
});

t.test('not GDT: typed Corrupt errors naming the line, never the content', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty file', Buffer.alloc(0), /holds no GDT record/],
    ['only blank lines', Buffer.from('\r\n\r\n'), /holds no GDT record/],
    ['short line', gdtFile([['8000', '6301'], '01231']), /^line 2 is not a GDT field/],
    ['letters in the field id', gdtFile([['8000', '6301'], '013Name Geheim']), /^line 2 is not a GDT field/],
    ['no 8000 first', gdtFile([['3101', 'Geheim'], ['8000', '6301']]), /^line 1: the file does not start with a record \(field 8000\)/],
    ['text file', Buffer.from('Sehr geehrter Herr Geheim,\nanbei der Befund.\n'), /^line 1 is not a GDT field/],
    ['BOM but not UTF-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0x81]), gdtFile(masterData())]), /^line 1 is not a GDT field/],
  ];
  for (const [what, bytes, message] of cases) {
    const err = t.throws(() => parseGdt(bytes), { code: 'Corrupt' }, what);
    if (err instanceof Error) {
      t.match(err.message, message, what);
      t.notMatch(err.message, /Geheim|geehrter/, `${what}: no content in the message`);
    }
  }
});

t.test('hard limits: file size and line count', async (t) => {
  const bytes = gdtFile(masterData([['6220', 'x'], ['6220', 'y']]));
  t.throws(() => parseGdt(bytes, { maxBytes: bytes.length - 1 }), { code: 'InvalidInput', message: `GDT file is ${bytes.length} bytes; the limit is ${bytes.length - 1}` });
  t.equal(parseGdt(bytes, { maxBytes: bytes.length }).records.length, 1);
  t.throws(() => parseGdt(bytes, { maxLines: 7 }), { code: 'InvalidInput', message: 'GDT file has more than 7 lines' });
  t.equal(parseGdt(bytes, { maxLines: 8 }).records.length, 1);
  // Defaults: 8 MiB and 200,000 lines; a file of nothing but line breaks stops at the line limit.
  t.throws(() => parseGdt(Buffer.alloc(8 * 1024 * 1024 + 1, 0x30)), { code: 'InvalidInput' });
  t.throws(() => parseGdt(Buffer.alloc(300_000, 0x0a)), { code: 'InvalidInput', message: 'GDT file has more than 200000 lines' });
});

t.test('a hostile file with a wrong prefix on every line keeps at most 1000 issues', async (t) => {
  const lines = [['8000', '6310'] as [string, string], ...Array.from({ length: 3000 }, () => ['6220', 'x', '000'] as [string, string, string])];
  const r = parseGdt(gdtFile(lines));
  t.equal(r.warnings.length, 1001);
  t.same(codes(r.warnings.slice(-1)), [['too-many-issues', 3001]]);
  // 3000 wrong prefixes + no 8100 + no 9218; the first 1000 are kept.
  t.equal(r.warnings.at(-1)?.message, '2002 more issues not listed');
});

t.test('a 3.x record with unknown fields parses; its fields are kept in order', async (t) => {
  const r = parseGdt(gdtFile([['8000', '6310'], ['8100', 'auto'], ['9218', '03.50'], ['0001', 'x'], ['8402', 'EKG01'], ['7777', 'y'], ['3000', '1']]), { strict: true });
  t.same(r.records[0]?.fields.map((f) => f.id), ['8000', '9218', '0001', '8402', '7777', '3000']);
});
