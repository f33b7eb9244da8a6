import t from 'tap';
import { isPraxisboxError } from '../../agent/core/errors.js';
import { parseGdt, relabelCharset, splitLong, writeGdt } from '../../agent/gdt/codec/index.js';
import type { GdtField, GdtRecord, GdtWriteCharset } from '../../agent/gdt/codec/index.js';
import { longMode } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/seeded-random.js';

const rec = (...pairs: Array<[string, string]>): GdtRecord => ({ fields: pairs.map(([id, value]) => ({ id, value })) });

t.test('LLL in bytes of the target charset, 8100 as the second line with the record size', async (t) => {
  const out = writeGdt([rec(['8000', '6301'], ['9218', '02.10'], ['3101', 'Müller'])]);
  t.same(out, Buffer.from('01380006301\r\n014810000056\r\n014921802.10\r\n0153101M\x81ller\r\n', 'latin1'));
  const latin = writeGdt([rec(['8000', '6301'], ['9206', '3'], ['3101', 'Müller'])]);
  t.same(latin, Buffer.from('01380006301\r\n014810000052\r\n01092063\r\n0153101M\xfcller\r\n', 'latin1'));
  t.equal(writeGdt([rec(['8000', '6301'], ['3102', ''])]).toString('latin1'), '01380006301\r\n014810000036\r\n0093102\r\n', 'empty field: LLL 009');
});

t.test('long and multi-line free text becomes repeated lines', async (t) => {
  const words = Array.from({ length: 300 }, (_, i) => `Wort${i}`).join(' ');
  const out = parseGdt(writeGdt([rec(['8000', '6310'], ['9218', '02.10'], ['6220', words], ['6227', 'eins\r\nzwei\nbis drei\r'], ['8480', 'x'.repeat(2000)])]), { strict: true });
  const fields = out.records[0]?.fields ?? [];
  const text = fields.filter((f) => f.id === '6220').map((f) => f.value);
  t.equal(text.length, 3);
  t.ok(text.every((line) => line.length <= 990));
  t.equal(text.join(''), words, 'cut after a blank, nothing lost');
  t.ok(text[0]?.endsWith(' '));
  t.same(fields.filter((f) => f.id === '6227').map((f) => f.value), ['eins', 'zwei', 'bis drei', '']);
  t.same(fields.filter((f) => f.id === '8480').map((f) => f.value.length), [990, 990, 20], 'no blank: cut at 990');
  t.same(splitLong(''), ['']);
  t.same(splitLong('a'.repeat(990)), ['a'.repeat(990)]);
});

t.test('refusals are InvalidInput errors that name record, field and position, never the text', async (t) => {
  const cases: Array<[string, () => Buffer, string]> = [
    ['no records', () => writeGdt([]), 'nothing to write: no records'],
    ['not 8000 first', () => writeGdt([rec(['3101', 'Geheim'])]), 'record 1 does not start with field 8000 (record type)'],
    ['empty record', () => writeGdt([{ fields: [] }]), 'record 1 does not start with field 8000 (record type)'],
    ['8100 given', () => writeGdt([rec(['8000', '6301'], ['8100', '00099'])]), 'record 1, field 2: 8100 is computed by the writer and must not be given'],
    ['bad id', () => writeGdt([rec(['8000', '6301'], ['31O1', 'Geheim'])]), 'record 1, field 2: field id is not 4 digits'],
    ['CP437 cannot carry Ł', () => writeGdt([rec(['8000', '6301'], ['3101', 'Geheimł'])]), 'record 1, field 2 (3101): character U+0142 at position 6 cannot be written in cp437'],
    ['emoji', () => writeGdt([rec(['8000', '6301'], ['9206', '3'], ['6220', 'ok 🙂'])]), 'record 1, field 3 (6220): character U+1F642 at position 3 cannot be written in iso-8859-1'],
    ['line break in a name', () => writeGdt([rec(['8000', '6301'], ['3101', 'Geh\neim'])]), 'record 1, field 2 (3101): line break in a field that is not free text'],
    ['too long for a line', () => writeGdt([rec(['8000', '6301'], ['3101', 'G'.repeat(991)])]), 'record 1, field 2 (3101): 991 bytes; a line holds at most 990'],
    ['record too large', () => writeGdt([rec(['8000', '6310'], ...Array.from({ length: 101 }, (): [string, string] => ['6220', 'x'.repeat(990)]))]), 'record 1 would be 100926 bytes; 8100 cannot express more than 99999'],
    ['label says otherwise', () => writeGdt([rec(['8000', '6301'], ['9206', '3'])], { charset: 'cp437' }), 'record 1: its 9206 does not declare cp437 (code 2)'],
    ['no label for Latin-1', () => writeGdt([rec(['8000', '6301'])], { charset: 'iso-8859-1' }), 'record 1 has no 9206, so readers would take CP437; add 9206=3 to write iso-8859-1'],
    ['second record disagrees', () => writeGdt([rec(['8000', '6301'], ['9206', '3']), rec(['8000', '6301'], ['9206', '2'])]), 'record 2: its 9206 does not declare iso-8859-1 (code 3)'],
  ];
  for (const [what, run, message] of cases) t.throws(run, { code: 'InvalidInput', message }, what);
  t.equal(writeGdt([rec(['8000', '6301'], ['3101', 'G'.repeat(990)])]).length, 13 + 14 + 999, 'a 999-byte line is fine');
});

t.test('relabelCharset converts: 9206 replaced, or inserted before 9218', async (t) => {
  const records = [rec(['8000', '6301'], ['8315', 'X'], ['9218', '02.10']), rec(['8000', '6301'], ['9206', '2']), rec(['8000', '6301'])];
  const relabelled = relabelCharset(records, 'iso-8859-1');
  t.same(relabelled.map((r) => r.fields.map((f) => `${f.id}=${f.value}`)), [['8000=6301', '8315=X', '9206=3', '9218=02.10'], ['8000=6301', '9206=3'], ['8000=6301', '9206=3']]);
  t.same(relabelCharset([records[2] as GdtRecord], 'cp437'), [records[2]], 'CP437 needs no label');
  t.equal(parseGdt(writeGdt(relabelled)).charset, 'iso-8859-1');
});

/** Records built from random fields: parse(write(x)) must give x back exactly, without a warning. */
t.test('round trip of constructed records', async (t) => {
  const seed = Number(process.env['PRAXISBOX_FUZZ_SEED'] ?? 0x9d7);
  const cases = longMode ? 20_000 : 500;
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const alphabet: Record<GdtWriteCharset, string> = {
    '7bit': 'abcXYZ019 .,-/()ÄÖÜäöüß§',
    cp437: 'abcXYZ019 .,-/\\()@[]{}ÄÖÜäöüßµ°²½─│é',
    'iso-8859-1': 'abcXYZ019 .,-/\\()@[]{}ÄÖÜäöüßµ°²½é€„“–',
  };
  const ids = ['3000', '3101', '3102', '3103', '3110', '6220', '6227', '6228', '8402', '8410', '8420', '8421', '0211', '9999', '6305'];
  let failures = 0;
  for (let i = 0; i < cases && failures < 3; i++) {
    const charset = pick(['7bit', 'cp437', 'iso-8859-1'] as const);
    const fields: GdtField[] = [{ id: '8000', value: pick(['6300', '6301', '6302', '6310', '6311']) }];
    if (charset !== 'cp437' || rnd() < 0.5) fields.push({ id: '9206', value: { '7bit': '1', cp437: '2', 'iso-8859-1': '3' }[charset] });
    if (rnd() < 0.8) fields.push({ id: '9218', value: '02.10' });
    const n = Math.floor(rnd() * 30);
    for (let k = 0; k < n; k++) {
      const len = rnd() < 0.05 ? Math.floor(rnd() * 990) : Math.floor(rnd() * 40);
      fields.push({ id: pick(ids), value: Array.from({ length: len }, () => pick([...alphabet[charset]])).join('') });
    }
    const records = rnd() < 0.2 ? [{ fields }, { fields: [...fields] }] : [{ fields }];
    try {
      const parsed = parseGdt(writeGdt(records), { strict: fields.some((f) => f.id === '9218') });
      if (JSON.stringify(parsed.records) !== JSON.stringify(records) || parsed.charset !== charset) throw new Error(`case ${i}: records differ`);
    } catch (err) {
      failures++;
      t.fail(`seed ${seed}, case ${i} (${charset}): ${isPraxisboxError(err) || err instanceof Error ? err.message : String(err)}`);
    }
  }
  t.equal(failures, 0, `${cases} cases, seed ${seed}`);
});

