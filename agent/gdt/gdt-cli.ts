import fs from 'node:fs/promises';
import path from 'node:path';
import { describeError, invalidInput, isPraxisboxError } from '../core/errors.js';
import { DEFAULT_GDT_LIMITS, GdtRuleError, formatIssue, parseGdt, recordsFromJson, relabelCharset, toGdtJson, writeGdt } from './codec/index.js';
import type { GdtWriteCharset } from './codec/index.js';
import { formatGdtListing } from './codec/gdt-listing.js';

/**
 * `praxisbox gdt parse` and `praxisbox gdt write`: the codec from the outside (the integrator wires
 * these into the commander CLI). Exit codes: 0 ok, 1 unreadable input (missing file, not GDT, over a
 * limit, bad JSON, a character the charset cannot carry), 2 a strict parse found rule breaks.
 */
export interface GdtParseCommand {
  file: string;
  strict: boolean;
  json: boolean;
}
export interface GdtWriteCommand {
  /** Target charset; when given, every record's 9206 is set to match (a conversion). */
  charset?: GdtWriteCharset | undefined;
}
export interface CliOut {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}
export interface CliInOut extends CliOut {
  stdin: NodeJS.ReadableStream;
}

/** Largest JSON `gdt write` reads: a maximal GDT file as JSON with views stays far below this. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

export async function runGdtParse(opts: GdtParseCommand, io: CliOut): Promise<number> {
  try {
    const bytes = await readLimited(opts.file, DEFAULT_GDT_LIMITS.maxBytes);
    const result = parseGdt(bytes, { strict: opts.strict });
    const text = opts.json ? `${JSON.stringify(toGdtJson(result), null, 2)}\n` : formatGdtListing(result, path.basename(opts.file));
    await write(io.stdout, text);
    return 0;
  } catch (err) {
    if (err instanceof GdtRuleError) {
      const lines = err.issues.map((i) => `  [${i.code}] ${formatIssue(i)}\n`).join('');
      await write(io.stderr, `gdt parse: ${opts.file} breaks the GDT rules (${err.issues.length}):\n${lines}`);
      return 2;
    }
    if (!isPraxisboxError(err) && !isSystemError(err)) throw err;
    await write(io.stderr, `gdt parse: ${opts.file}: ${describeError(err)}\n`);
    return 1;
  }
}

export async function runGdtWrite(opts: GdtWriteCommand, io: CliInOut): Promise<number> {
  try {
    const input = await readStream(io.stdin, MAX_JSON_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(input.toString('utf8'));
    } catch {
      // JSON.parse's message quotes the input, which may be patient data.
      await write(io.stderr, 'gdt write: standard input is not valid JSON\n');
      return 1;
    }
    let records = recordsFromJson(json);
    if (opts.charset !== undefined) records = relabelCharset(records, opts.charset);
    const bytes = writeGdt(records, opts.charset === undefined ? {} : { charset: opts.charset });
    await write(io.stdout, bytes);
    return 0;
  } catch (err) {
    if (!isPraxisboxError(err) && !isSystemError(err)) throw err;
    await write(io.stderr, `gdt write: ${describeError(err)}\n`);
    return 1;
  }
}

/** Reads a file, refusing before reading when it is over `limit` (a hostile file must not fill memory). */
async function readLimited(file: string, limit: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > limit) throw invalidInput(`file is ${size} bytes; the GDT limit is ${limit}`, { limit: 'maxBytes' });
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    total += b.length;
    if (total > limit) throw invalidInput(`standard input is over ${limit} bytes`, { limit: 'maxJsonBytes' });
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** An operating-system error (ENOENT, EACCES, EISDIR…): the input is unreadable, not the program broken. */
function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

function write(stream: NodeJS.WritableStream, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
