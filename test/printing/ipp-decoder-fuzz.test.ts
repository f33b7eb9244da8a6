import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ErrorCode, isPraxisboxError } from '../../agent/core/errors.js';
import { decodeMessage } from '../../agent/printing/ipp/decode.js';
import { encodeMessage } from '../../agent/printing/ipp/encode.js';
import { printJobRequest } from '../../agent/printing/ipp/requests.js';
import { attribute, collection, integer, keyword } from '../../agent/printing/ipp/ipp-value.js';
import { longMode, repoRoot } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/seeded-random.js';

/**
 * The decoder meets bytes from any device on the practice network. Fuzzing it with truncated,
 * bit-flipped, spliced and random answers must only ever produce a result or a Corrupt error —
 * never a RangeError, a TypeError, a hang or a crash.
 */

const CASES = longMode ? 100_000 : 4_000;
const seed = Number(process.env['PRAXISBOX_FUZZ_SEED'] ?? 0x5eed1234);


const real = fs.readFileSync(path.join(repoRoot, 'test/printing/data/ippeveprinter-printer-attributes.bin'));
const target = { version: { major: 2, minor: 0 }, printerUri: 'ipp://p/ipp/print', requestingUserName: 'u' };
const synthetic = encodeMessage(
  printJobRequest(target, 3, {
    jobName: 'Jörg',
    documentFormat: 'application/pdf',
    fidelity: true,
    jobAttributes: [attribute('media-col', collection({ 'media-size': collection({ 'x-dimension': integer(21000), 'y-dimension': integer(29700) }), 'media-source': keyword('tray-2') }))],
  }),
);
const corpus = [real, synthetic];

type Outcome = 'decoded' | 'corrupt';

function attempt(bytes: Buffer): Outcome {
  try {
    decodeMessage(bytes);
    return 'decoded';
  } catch (err) {
    if (isPraxisboxError(err) && err.code === ErrorCode.Corrupt && typeof err.details?.['offset'] === 'number') return 'corrupt';
    throw err;
  }
}

t.test('every truncation of real answers is a typed error', async (t) => {
  let corrupt = 0;
  for (const sample of corpus) {
    for (let len = 0; len < sample.length; len++) if (attempt(sample.subarray(0, len)) === 'corrupt') corrupt++;
  }
  // A prefix ending right after a complete message is impossible (the end tag is last), so all fail.
  t.equal(corrupt, real.length + synthetic.length);
  t.equal(attempt(real), 'decoded');
});

t.test(`${CASES} mutated and random answers (seed ${seed})`, async (t) => {
  const rnd = mulberry32(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const counts: Record<Outcome, number> = { decoded: 0, corrupt: 0 };
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const base = corpus[int(corpus.length)] ?? real;
    let bytes: Buffer;
    switch (i % 5) {
      case 0: {
        bytes = Buffer.from(base);
        for (let k = 1 + int(8); k > 0; k--) bytes[int(bytes.length)] = int(256);
        break;
      }
      case 1: {
        bytes = Buffer.from(base.subarray(0, int(base.length)));
        if (bytes.length > 0) bytes[int(bytes.length)] = int(256);
        break;
      }
      case 2: {
        const at = int(base.length);
        bytes = Buffer.concat([base.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))), base.subarray(at + int(8))]);
        break;
      }
      case 3: {
        // Length fields are where parsers die: set a random SHORT to 0x7fff / 0x8000 / 0.
        bytes = Buffer.from(base);
        const at = 8 + int(Math.max(1, bytes.length - 10));
        bytes.writeUInt16BE([0x7fff, 0x8000, 0, 0xffff][int(4)] ?? 0, Math.min(at, bytes.length - 2));
        break;
      }
      default:
        bytes = Buffer.from(Array.from({ length: int(64) }, () => int(256)));
        if (bytes.length > 8 && rnd() < 0.5) bytes[8] = 1 + int(5);
    }
    try {
      counts[attempt(bytes)]++;
    } catch (err) {
      t.fail(`case ${i} (seed ${seed}) threw ${err instanceof Error ? err.name : typeof err}: ${String(err)}`);
      return;
    }
  }
  t.equal(counts.decoded + counts.corrupt, CASES);
  t.ok(counts.corrupt > CASES / 4, `mutations are mostly detected (${counts.corrupt} corrupt, ${counts.decoded} still decodable)`);
  t.comment(`${CASES} cases in ${Date.now() - started} ms: ${counts.corrupt} corrupt, ${counts.decoded} decodable`);
});

t.test('deep nesting and huge counts stay bounded', async (t) => {
  // 10 000 nested begCollection tags: refused by depth, not by the stack.
  const parts = [Buffer.from([2, 0, 0, 0, 0, 0, 0, 1, 4, 0x34, 0, 1, 0x61, 0, 0])];
  for (let i = 0; i < 10_000; i++) parts.push(Buffer.from([0x4a, 0, 0, 0, 1, 0x6d, 0x34, 0, 0, 0, 0]));
  t.throws(() => decodeMessage(Buffer.concat(parts)), { code: 'Corrupt', message: /nested deeper/ });
  // 200 000 additional values of one attribute decode (memory is bounded by the response size cap).
  const many = [Buffer.from([2, 0, 0, 0, 0, 0, 0, 1, 4, 0x21, 0, 1, 0x61, 0, 4, 0, 0, 0, 0])];
  for (let i = 0; i < 200_000; i++) many.push(Buffer.from([0x21, 0, 0, 0, 4, 0, 0, 0, 1]));
  many.push(Buffer.from([3]));
  t.equal(decodeMessage(Buffer.concat(many)).groups[0]?.attributes[0]?.values.length, 200_001);
});
