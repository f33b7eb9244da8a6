import fs from 'node:fs';
import t from 'tap';
import { ErrorCode, isPraxisboxError } from '../../agent/core/errors.js';
import { GdtRuleError, parseGdt, writeGdt } from '../../agent/gdt/codec/index.js';
import type { GdtParseResult } from '../../agent/gdt/codec/index.js';
import { fixture, longMode } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/seeded-random.js';

/**
 * GDT files come from device PCs and network shares: anything may be in them. Mutated sample files,
 * random bytes and random GDT-like lines must each end in a result or a typed PraxisboxError
 * (Corrupt or InvalidInput) — never a TypeError, RangeError, crash or hang. Reproduce a failure with
 * PRAXISBOX_FUZZ_SEED=<seed printed> (and PRAXISBOX_TEST_LONG=1 for the long run).
 */

const CASES = longMode ? 120_000 : 4_000;
const seed = Number(process.env['PRAXISBOX_FUZZ_SEED'] ?? 0x6d7f00d);


const dir = fixture('gdt-public');
const samples = fs
  .readdirSync(dir)
  .filter((f) => !f.startsWith('LICENSE') && !f.endsWith('.md'))
  .map((f): Buffer => fs.readFileSync(`${dir}/${f}`));
samples.push(
  writeGdt([{ fields: [{ id: '8000', value: '6310' }, { id: '9206', value: '1' }, { id: '3101', value: 'Müller' }, { id: '6220', value: 'Größe §3' }] }]),
  writeGdt([{ fields: [{ id: '8000', value: '6302' }, { id: '9206', value: '3' }, { id: '6227', value: '5 € „ok“' }, { id: '6305', value: 'C:\\GDT\\a.pdf' }] }]),
);
// Bytes that mean something to the parser: line breaks, digits, DOS EOF, 8-bit and UTF-8 lead bytes, a BOM.
const INTERESTING = [0x0d, 0x0a, 0x00, 0x1a, 0x20, 0x30, 0x31, 0x38, 0x39, 0x80, 0x81, 0x9f, 0xc3, 0xe1, 0xef, 0xbb, 0xbf, 0xff];

type Outcome = 'parsed' | 'refused';

function mutate(rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const base = samples[int(samples.length)] as Buffer;
  const b = Buffer.from(base);
  switch (int(8)) {
    case 0: // bit flips
      for (let k = 1 + int(8); k > 0; k--) {
        const i = int(b.length);
        if (i < b.length) b[i] = (b[i] ?? 0) ^ (1 << int(8));
      }
      return b;
    case 1: // interesting bytes
      for (let k = 1 + int(6); k > 0; k--) if (b.length > 0) b[int(b.length)] = INTERESTING[int(INTERESTING.length)] as number;
      return b;
    case 2: // truncation
      return b.subarray(0, int(b.length + 1));
    case 3: { // deletion of a range
      const at = int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(40)))]);
    }
    case 4: { // splice from another sample
      const other = samples[int(samples.length)] as Buffer;
      const from = int(other.length + 1);
      const at = int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), other.subarray(from, from + int(200)), b.subarray(at)]);
    }
    case 5: { // shuffle or duplicate lines
      const lines = b.toString('latin1').split('\n');
      for (let k = 1 + int(4); k > 0; k--) {
        const i = int(lines.length);
        const j = int(lines.length);
        if (rnd() < 0.5) [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
        else lines.splice(i, 0, lines[j] as string);
      }
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 6: // random bytes
      return Buffer.from(Array.from({ length: int(600) }, () => int(256)));
    default: { // random GDT-like lines: right shape, random prefixes, contents and breaks
      const out: string[] = [];
      for (let k = int(40); k > 0; k--) {
        const id = rnd() < 0.2 ? '8000' : rnd() < 0.1 ? '8100' : String(int(10_000)).padStart(4, '0');
        const content = Array.from({ length: int(30) }, () => String.fromCharCode(rnd() < 0.9 ? 0x20 + int(95) : int(256))).join('');
        out.push(`${String(int(1000)).padStart(3, '0')}${id}${content}${['\r\n', '\n', '\r', ''][int(4)]}`);
      }
      return Buffer.from(out.join(''), 'latin1');
    }
  }
}

/** The invariants of a successful parse: what callers rely on. */
function checkResult(r: GdtParseResult, bytes: Buffer): void {
  if (r.records.length === 0 || r.frames.length !== r.records.length) throw new Error('records and frames disagree');
  r.records.forEach((rec, i) => {
    if (rec.fields[0]?.id !== '8000') throw new Error('a record does not start with 8000');
    if (rec.fields.some((f) => f.id === '8100' || !/^\d{4}$/.test(f.id))) throw new Error('8100 or a bad id among the fields');
    if (r.frames[i]?.fieldLines.length !== rec.fields.length) throw new Error('field lines missing');
  });
  if (r.warnings.some((w) => !(w.line >= 1) || w.message.length === 0)) throw new Error('a warning without line or message');
  // Strict is the same parse: it either agrees or throws the warnings.
  try {
    parseGdt(bytes, { strict: true });
    if (r.warnings.length > 0) throw new Error('strict accepted a file with warnings');
  } catch (err) {
    if (!(err instanceof GdtRuleError) || err.issues.length !== r.warnings.length) throw err;
  }
  // Whatever parsed can be written (or is refused with a typed error), and reads back with the same fields.
  try {
    const again = parseGdt(writeGdt(r.records));
    const ids = (x: GdtParseResult): string => x.records.map((rec) => rec.fields.map((f) => f.id).join(',')).join('|');
    if (r.records.every((rec) => rec.fields.every((f) => f.value.length <= 990)) && ids(again) !== ids(r)) throw new Error('write changed the fields');
  } catch (err) {
    if (!(isPraxisboxError(err) && err.code === ErrorCode.InvalidInput)) throw err;
  }
}

function attempt(bytes: Buffer): Outcome {
  let result: GdtParseResult;
  try {
    result = parseGdt(bytes);
  } catch (err) {
    if (isPraxisboxError(err) && (err.code === ErrorCode.Corrupt || err.code === ErrorCode.InvalidInput)) return 'refused';
    throw err;
  }
  checkResult(result, bytes);
  return 'parsed';
}

t.test(`${CASES} mutated and random files: a result or a typed error, fast`, async (t) => {
  const rnd = mulberry32(seed);
  const outcomes = { parsed: 0, refused: 0 };
  let slowest = 0;
  let failures = 0;
  for (let i = 0; i < CASES && failures < 5; i++) {
    const bytes = mutate(rnd);
    const started = process.hrtime.bigint();
    try {
      outcomes[attempt(bytes)]++;
    } catch (err) {
      failures++;
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      t.fail(`seed ${seed} case ${i}: ${what}; input (base64) ${bytes.toString('base64').slice(0, 400)}`);
    }
    slowest = Math.max(slowest, Number(process.hrtime.bigint() - started) / 1e6);
  }
  t.equal(failures, 0, `seed ${seed}`);
  t.ok(outcomes.parsed > CASES / 10, `many still parse (${outcomes.parsed})`);
  t.ok(outcomes.refused > CASES / 10, `many are refused (${outcomes.refused})`);
  t.ok(slowest < 1000, `no case takes long (slowest ${slowest.toFixed(1)} ms)`);
});

t.test('every truncation of every sample is a result or a typed error', async (t) => {
  let n = 0;
  for (const sample of samples) {
    for (let len = 0; len <= sample.length; len++, n++) attempt(sample.subarray(0, len));
  }
  t.ok(n > 3000, `${n} truncations`);
});

t.test('hostile sizes stop at the limits with a typed error', async (t) => {
  const lines = Buffer.from('0108000x\r\n'.repeat(250_000), 'latin1');
  t.throws(() => parseGdt(lines), { code: 'InvalidInput', message: 'GDT file has more than 200000 lines' });
  const oneLine = Buffer.concat([Buffer.from('01380006301'), Buffer.alloc(8 * 1024 * 1024 - 11, 0x41)]);
  const started = Date.now();
  const r = parseGdt(oneLine);
  t.equal(r.records[0]?.fields[0]?.value.length, 8 * 1024 * 1024 - 7, 'an 8 MiB line is read, not hung on');
  t.ok(Date.now() - started < 2000);
});
