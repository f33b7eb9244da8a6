import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import t from 'tap';
import type { Test } from 'tap';
import { runGdtParse, runGdtWrite } from '../../agent/gdt/gdt-cli.js';
import type { GdtWriteCharset } from '../../agent/gdt/codec/index.js';
import { fixture, tempDir } from '../helpers/fixtures.js';

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function sink(): { stream: PassThrough; bytes: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

async function parse(file: string, strict = false, json = true): Promise<Run> {
  const out = sink();
  const err = sink();
  const code = await runGdtParse({ file, strict, json }, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.bytes(), stderr: err.bytes().toString('utf8') };
}

async function write(stdin: Buffer | string, charset?: GdtWriteCharset): Promise<Run> {
  const out = sink();
  const err = sink();
  const code = await runGdtWrite({ charset }, { stdin: Readable.from([Buffer.from(stdin)]), stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.bytes(), stderr: err.bytes().toString('utf8') };
}

const sample = (name: string): string => fixture('gdt-public', name);

t.test('parse --json prints fields in order with lines, charset, sizes, views and warnings', async (t) => {
  const run = await parse(sample('levinalex-xdt_gdt2_1-2.txt'));
  t.equal(run.code, 0);
  t.equal(run.stderr, '');
  const json = JSON.parse(run.stdout.toString('utf8'));
  t.equal(json.charset, 'cp437');
  t.equal(json.declaredCharset, null);
  t.equal(json.lineEnding, 'crlf');
  t.equal(json.records.length, 1);
  t.same(json.records[0].fields.slice(0, 3), [{ line: 1, id: '8000', value: '6310' }, { line: 3, id: '8315', value: 'PRAX_EDV' }, { line: 4, id: '8316', value: 'LZBD_SYS' }]);
  t.same([json.records[0].type, json.records[0].startLine, json.records[0].declaredSize, json.records[0].size], ['6310', 1, 962, 954]);
  t.equal(json.records[0].view.kind, 'results');
  t.equal(json.records[0].view.examination.testCode, 'BDM01');
  t.equal(json.warnings.length, 12);
  t.same(json.warnings[0], { code: 'record-size', line: 2, field: '8100', message: '8100 says 962 bytes, the record has 954' });
});

t.test('parse without --json prints a readable listing', async (t) => {
  const run = await parse(sample('levinalex-xdt_BARCQPCN.001'), false, false);
  t.equal(run.code, 0);
  const text = run.stdout.toString('utf8');
  t.match(text, /^file {8}levinalex-xdt_BARCQPCN\.001\ncharset {5}cp437 \(no 9206: the GDT default\)\nline ends {3}crlf\nrecords {5}1\nwarnings {4}0\n/);
  t.match(text, /record 1 of 1: 6301 master data \(from line 1\)\n {2}size 228 bytes \(8100 says 228\)\n/);
  t.match(text, / {4}11 {2}3106 {3}postcode and town {10}4000 Düsseldorf 12\n/);
  const broken = await parse(sample('levinalex-xdt_example3.gdt.txt'), false, false);
  t.match(broken.stdout.toString('utf8'), /warnings:\n {2}\[record-size\] line 2, field 8100: 8100 says 349 bytes, the record has 353\n$/);
});

t.test('the listing escapes control characters from the file', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'esc.gdt');
  await fs.writeFile(file, '01380006301\r\n0193101\x1b[31mrot\x07\r\n');
  const run = await parse(file, false, false);
  t.equal(run.code, 0);
  t.match(run.stdout.toString('utf8'), /3101 {3}surname {20}\\x1b\[31mrot\\x07\n/);
  t.notOk(run.stdout.includes(0x1b), 'no raw ESC reaches the terminal');
});

t.test('--strict: exit 2 with every rule break and its line; a valid file passes', async (t) => {
  const bad = await parse(sample('levinalex-xdt_example2.latin1.gdt.txt'), true);
  t.equal(bad.code, 2);
  t.equal(bad.stdout.length, 0);
  t.equal(
    bad.stderr,
    `gdt parse: ${sample('levinalex-xdt_example2.latin1.gdt.txt')} breaks the GDT rules (2):\n  [line-ending] line 1: line ends in LF instead of CRLF\n  [record-size] line 2, field 8100: 8100 says 233 bytes, the record has 234\n`,
  );
  t.equal((await parse(sample('levinalex-xdt_gdt2_1-1.txt'), true)).code, 0);
});

t.test('unreadable input: exit 1 with a clear message', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const missing = await parse(path.join(dir, 'nope.gdt'));
  t.same([missing.code, missing.stderr], [1, `gdt parse: ${path.join(dir, 'nope.gdt')}: ENOENT (open)\n`]);
  const isDir = await parse(dir);
  t.equal(isDir.code, 1);
  t.match(isDir.stderr, /EISDIR/);
  const text = path.join(dir, 'letter.gdt');
  await fs.writeFile(text, 'Sehr geehrte Frau Geheim,\n');
  const notGdt = await parse(text, true);
  t.same([notGdt.code, notGdt.stderr], [1, `gdt parse: ${text}: Corrupt: line 1 is not a GDT field (needs a 3-digit length and a 4-digit field id)\n`]);
  const big = path.join(dir, 'big.gdt');
  await fs.writeFile(big, '');
  await fs.truncate(big, 8 * 1024 * 1024 + 1);
  const tooBig = await parse(big);
  t.same([tooBig.code, tooBig.stderr], [1, `gdt parse: ${big}: InvalidInput: file is 8388609 bytes; the GDT limit is 8388608\n`]);
});

t.test('write accepts what parse --json prints: the spec example comes back byte for byte', async (t) => {
  const file = sample('levinalex-xdt_gdt2_1-1.txt');
  const json = (await parse(file)).stdout;
  const run = await write(json);
  t.equal(run.code, 0);
  t.equal(run.stderr, '');
  t.same(run.stdout, await fs.readFile(file));
});

t.test('parse → write → parse keeps the fields of every sample', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  for (const name of (await fs.readdir(fixture('gdt-public'))).filter((f) => !f.startsWith('LICENSE') && !f.endsWith('.md'))) {
    const first = JSON.parse((await parse(sample(name))).stdout.toString('utf8'));
    const written = await write(JSON.stringify(first));
    t.equal(written.code, 0, name);
    await fs.writeFile(path.join(dir, name), written.stdout);
    const second = await parse(path.join(dir, name), true);
    t.equal(second.code, 0, `${name}: the written file passes --strict`);
    const again = JSON.parse(second.stdout.toString('utf8'));
    const strip = (j: { records: Array<{ fields: Array<{ id: string; value: string }> }> }): string[][] => j.records.map((r) => r.fields.map((f) => `${f.id}=${f.value}`));
    t.same(strip(again), strip(first), name);
  }
});

t.test('write --charset converts and relabels 9206', async (t) => {
  const json = (await parse(sample('levinalex-xdt_BARCQPCN.001'))).stdout;
  const latin = await write(json, 'iso-8859-1');
  t.equal(latin.code, 0);
  const text = latin.stdout.toString('latin1');
  t.match(text, /01092063\r\n014921802\.00\r\n/, '9206=3 inserted before 9218');
  t.match(text, /02731064000 D\xfcsseldorf 12\r\n/, 'ü as ISO-8859-1 0xFC');
  const din = await write(json, '7bit');
  t.match(din.stdout.toString('latin1'), /01092061\r\n[\s\S]*D\}sseldorf/);
  const back = await write(await parseBytes(t, latin.stdout), 'cp437');
  t.match(back.stdout.toString('latin1'), /01092062\r\n[\s\S]*D\x81sseldorf/, 'and back to CP437, now with 9206=2');
});

async function parseBytes(t: Test, bytes: Buffer): Promise<Buffer> {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  await fs.writeFile(path.join(dir, 'x.gdt'), bytes);
  return (await parse(path.join(dir, 'x.gdt'))).stdout;
}

t.test('write refuses bad input with exit 1 and no patient data in the message', async (t) => {
  t.same(await write('{"records": [ {"fields": [ Geheim'), { code: 1, stdout: Buffer.alloc(0), stderr: 'gdt write: standard input is not valid JSON\n' });
  t.same((await write('{"recs": []}')).stderr, 'gdt write: InvalidInput: expected an object with a "records" array (the output of gdt parse --json)\n');
  t.same((await write('{"records": [{"fields": [{"id": 8000, "value": "6301"}]}]}')).stderr, 'gdt write: InvalidInput: records[0].fields[0] needs a string "id" and a string "value"\n');
  const lossy = await write(JSON.stringify({ records: [{ fields: [{ id: '8000', value: '6301' }, { id: '3101', value: 'Geheim@' }] }] }), '7bit');
  t.same([lossy.code, lossy.stdout.length, lossy.stderr], [1, 0, 'gdt write: InvalidInput: record 1, field 3 (3101): character U+0040 at position 6 cannot be written in 7bit\n']);
});
