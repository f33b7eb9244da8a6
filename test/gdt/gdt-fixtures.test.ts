import fs from 'node:fs';
import t from 'tap';
import { fieldValue, parseGdt, viewRecord, writeGdt } from '../../agent/gdt/codec/index.js';
import type { GdtCharset, GdtIssueCode, GdtLineEnding } from '../../agent/gdt/codec/index.js';
import { fixture } from '../helpers/fixtures.js';

/**
 * Every public sample file (see the fixtures' SOURCES.md for each file's measured quirks) parses with
 * the expected charset, record count, sizes and exactly the expected warnings, and survives a write.
 */

type Expected = {
  charset: GdtCharset;
  declared: GdtCharset | undefined;
  lineEnding: GdtLineEnding;
  records: number;
  /** [8100 as declared, real size] per record. */
  sizes: Array<[number, number]>;
  warnings: Array<[GdtIssueCode, number] | [GdtIssueCode, number, string]>;
};

const EXPECTED: Record<string, Expected> = {
  // LF-only, no final newline; 8100 = size with CRLF, so right.
  'crescnet-perl-xdt-parser_example1.gdt': {
    charset: 'iso-8859-1', declared: 'iso-8859-1', lineEnding: 'lf', records: 1, sizes: [[176, 176]],
    warnings: [['line-ending', 1], ['final-newline', 12]],
  },
  // UTF-8 under 9206=3; prefixes count characters, so both Größe lines are short by 2 bytes (the
  // 6 wrong lines SOURCES.md lists); the empty line between the two records.
  'crescnet-perl-xdt-parser_example2.gdt': {
    charset: 'utf-8', declared: 'iso-8859-1', lineEnding: 'lf', records: 2, sizes: [[176, 259], [176, 259]],
    warnings: [
      ['line-ending', 1], ['record-size', 2, '8100'], ['charset-mismatch', 3, '9206'], ['length-prefix', 10, '8410'],
      ['length-prefix', 19, '8201'], ['blank-line', 20], ['record-size', 22, '8100'], ['length-prefix', 27, '3102'],
      ['length-prefix', 30, '8410'], ['length-prefix', 35, '8420'], ['length-prefix', 39, '8201'], ['final-newline', 39],
    ],
  },
  'dcmtogdt_example-output.gdt': {
    charset: 'iso-8859-1', declared: 'iso-8859-1', lineEnding: 'lf', records: 1, sizes: [[803, 803]],
    warnings: [['line-ending', 1]],
  },
  // GDT 02.00, no 9206, CP437 ü.
  'levinalex-xdt_BARCQPCN.001': { charset: 'cp437', declared: undefined, lineEnding: 'crlf', records: 1, sizes: [[228, 228]], warnings: [] },
  'levinalex-xdt_example1.gdt.txt': {
    charset: 'cp437', declared: 'cp437', lineEnding: 'lf', records: 1, sizes: [[214, 214]],
    warnings: [['line-ending', 1]],
  },
  'levinalex-xdt_example2.latin1.gdt.txt': {
    charset: 'iso-8859-1', declared: 'iso-8859-1', lineEnding: 'lf', records: 1, sizes: [[233, 234]],
    warnings: [['line-ending', 1], ['record-size', 2, '8100']],
  },
  'levinalex-xdt_example3.gdt.txt': {
    charset: 'cp437', declared: 'cp437', lineEnding: 'crlf', records: 1, sizes: [[349, 353]],
    warnings: [['record-size', 2, '8100']],
  },
  // The GDT 2.1 spec's 6301 example: fully valid.
  'levinalex-xdt_gdt2_1-1.txt': { charset: 'cp437', declared: undefined, lineEnding: 'crlf', records: 1, sizes: [[173, 173]], warnings: [] },
  // The spec's 6310 example: 11 wrong prefixes (lost trailing blanks) and 8100 = sum of the prefixes.
  'levinalex-xdt_gdt2_1-2.txt': {
    charset: 'cp437', declared: undefined, lineEnding: 'crlf', records: 1, sizes: [[962, 954]],
    warnings: [
      ['record-size', 2, '8100'], ['length-prefix', 3, '8315'], ['length-prefix', 4, '8316'], ['length-prefix', 13, '8402'],
      ['length-prefix', 19, '6228'], ['length-prefix', 20, '6228'], ['length-prefix', 21, '6228'], ['length-prefix', 22, '6228'],
      ['length-prefix', 23, '6228'], ['length-prefix', 24, '6228'], ['length-prefix', 25, '8410'], ['length-prefix', 32, '8410'],
    ],
  },
};

const read = (name: string): Buffer => fs.readFileSync(fixture('gdt-public', name));

t.test('the fixture folder holds exactly the files listed here', async (t) => {
  const files = fs.readdirSync(fixture('gdt-public')).filter((f) => !f.startsWith('LICENSE') && !f.endsWith('.md'));
  t.same(files.sort(), Object.keys(EXPECTED).sort());
});

for (const [name, want] of Object.entries(EXPECTED)) {
  t.test(name, async (t) => {
    const bytes = read(name);
    const result = parseGdt(bytes);
    t.equal(result.charset, want.charset, 'charset');
    t.equal(result.declaredCharset, want.declared, 'declared charset');
    t.equal(result.lineEnding, want.lineEnding, 'line ends');
    t.equal(result.records.length, want.records, 'record count');
    t.same(result.frames.map((f) => [f.declaredSize, f.size]), want.sizes, 'sizes');
    t.same(result.warnings.map((w) => (w.field === undefined ? [w.code, w.line] : [w.code, w.line, w.field])), want.warnings, 'warnings');
    for (const w of result.warnings) t.notMatch(w.message, /Mustermann|Testmann|Größe|Sierra/, 'no field content in warnings');

    // Strict mode: the same parse, the warnings become one error (exit 2 in the CLI).
    if (want.warnings.length === 0) t.same(parseGdt(bytes, { strict: true }).records, result.records, 'strict accepts a valid file');
    else t.throws(() => parseGdt(bytes, { strict: true }), { code: 'InvalidInput', issues: result.warnings }, 'strict refuses');

    // Record-level round trip: what the writer makes parses to the same records, without warnings.
    const written = writeGdt(result.records);
    const again = parseGdt(written, { strict: true });
    t.same(again.records, result.records, 'parse(write(parse(file))) has the same records');
    t.equal(again.lineEnding, 'crlf');
    t.same(writeGdt(again.records), written, 'writing is stable');
  });
}

t.test('the spec example round-trips byte for byte (and so does the other valid file)', async (t) => {
  for (const name of ['levinalex-xdt_gdt2_1-1.txt', 'levinalex-xdt_BARCQPCN.001']) {
    const bytes = read(name);
    t.same(writeGdt(parseGdt(bytes).records), bytes, name);
  }
});

t.test('a file that is right but for 8100 is rewritten with only the 8100 line changed', async (t) => {
  const bytes = read('levinalex-xdt_example3.gdt.txt');
  const written = writeGdt(parseGdt(bytes).records);
  const a = bytes.toString('latin1').split('\r\n');
  const b = written.toString('latin1').split('\r\n');
  t.equal(b.length, a.length);
  t.same(b.filter((line, i) => line !== a[i]), ['014810000353']);
});

t.test('decoded text and typed views of the samples', async (t) => {
  const barc = parseGdt(read('levinalex-xdt_BARCQPCN.001')).records[0];
  t.ok(barc);
  if (barc === undefined) return;
  t.equal(fieldValue(barc, '3106'), '4000 Düsseldorf 12', 'CP437 0x81 is ü');
  t.equal(fieldValue(barc, '9218'), '02.00');

  const latin1 = parseGdt(read('levinalex-xdt_example2.latin1.gdt.txt')).records[0];
  t.equal(latin1 && fieldValue(latin1, '3107'), 'Schützenwall 59', 'ISO-8859-1 0xFC is ü');

  const two = parseGdt(read('crescnet-perl-xdt-parser_example2.gdt')).records;
  const second = two[1];
  t.ok(second);
  if (second === undefined) return;
  const view = viewRecord(second);
  t.equal(view.kind, 'show-results');
  if (view.kind !== 'show-results') return;
  t.same(view.patient, { number: '1', surname: 'Testmann', firstName: 'Traude', birthDate: '03081972', birthDateIso: '1972-08-03', sexCode: '1', sex: 'male' });
  t.same(
    view.examination.tests.map((x) => [x.id, x.value, x.unit, x.date]),
    [['Größe', '110', 'cm', '01012000'], ['Gewicht', '72.5', 'kg', '01012000']],
    'UTF-8 decoded; 8410 starts each test',
  );

  const spec = parseGdt(read('levinalex-xdt_gdt2_1-2.txt')).records[0];
  t.ok(spec);
  if (spec === undefined) return;
  const results = viewRecord(spec);
  t.equal(results.kind, 'results');
  if (results.kind !== 'results') return;
  t.equal(results.header.receiverId, 'PRAX_EDV');
  t.equal(results.examination.testCode, 'BDM01');
  t.equal(results.examination.date, '23101998');
  t.same(results.examination.findings.text, ['Dies ist ein zweizeiliger', 'Befund zur 24h-Blutdruckmessung.']);
  t.same(results.examination.findings.comments, ['Anmerkungen zu einer Langzeit-Blutdruckmessung.']);
  t.equal(results.examination.findings.table.length, 7);
  t.equal(results.examination.findings.table[2], '          Tagphase       Nachtphase   proz. Abfall', 'table lines keep their blanks');
  t.same(
    results.examination.tests.map((x) => [x.id, x.name, x.value, x.unit, x.date, x.time, x.normalHigh]),
    [
      ['SYSMXTG', 'Systole max Tagphase', '142', 'mmHg', '23101998', '163400', '140'],
      ['SYSMNTG', 'Systole min Tagphase', '112', 'mmHg', '24101998', '031200', undefined],
    ],
  );
  t.equal(fieldValue(spec, '3632'), '079', 'the spec example has field 3632 (not 3623): kept as an unknown field');

  const dcm = parseGdt(read('dcmtogdt_example-output.gdt')).records[0];
  if (dcm === undefined) return t.fail('no record');
  const echo = viewRecord(dcm);
  if (echo.kind !== 'results') return t.fail('not a results view');
  t.equal(echo.examination.findings.text.filter((line) => line === '').length, 2, 'empty 6220 lines are kept');
  t.same([echo.patient.surname, echo.patient.sex, echo.examination.testCode, echo.examination.time], ['Muster', 'female', 'ECHO01', '103015']);

  const bdt = parseGdt(read('levinalex-xdt_example3.gdt.txt')).records[0];
  if (bdt === undefined) return t.fail('no record');
  t.same(
    bdt.fields.map((f) => f.id),
    ['8000', '8315', '8316', '9218', '9206', '3000', '3100', '3101', '3102', '3103', '3104', '3105', '3106', '3107', '3110', '0212', '0211', '2002', '4111', '3112', '3113'],
    'non-GDT BDT fields are kept, in order; 8100 is framing, not a field',
  );
  t.equal(viewRecord(bdt).kind, 'order');
});
