import fs from 'node:fs/promises';
import { describeError, invalidInput, isPraxisboxError } from '../core/errors.js';
import { IppClient } from './ipp-client.js';
import type { PrinterEndpoint } from './ipp-transport.js';
import { isPdf } from './pdf-argument.js';
import { MediaSizes, type PrintTicket } from './print-ticket.js';
import type { PrinterCapabilities, Sides } from './printer-capabilities.js';
import { discoverPrinters, type DiscoveredPrinter } from './printer-discovery.js';

/**
 * `praxisbox print`, `printers caps`, `printers discover`: the IPP client from a shell, without the
 * agent or its queue — for setting up a printer and for checking one when printing fails.
 */

export interface PrintCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

export interface PrinterOptions {
  printer: string;
  pin?: string[];
  ca?: string;
  user?: string;
}

export interface PrintOptions extends PrinterOptions {
  file: string;
  tray?: string;
  size?: string;
  sides?: string;
  copies?: string;
  color?: string;
  wait?: boolean;
  json?: boolean;
}

const SIDES: readonly Sides[] = ['one-sided', 'two-sided-long-edge', 'two-sided-short-edge'];
const COLOR = ['auto', 'monochrome', 'color'] as const;

async function endpointOf(o: PrinterOptions, env: PrintCliIo['env']): Promise<PrinterEndpoint> {
  const secure = o.printer.startsWith('ipps:');
  let tls: PrinterEndpoint['tls'];
  if (secure) {
    if (o.pin && o.pin.length > 0) tls = { kind: 'pinned', sha256: o.pin };
    else if (o.ca) tls = { kind: 'ca', ca: await fs.readFile(o.ca) };
    else tls = { kind: 'system' };
  }
  // The password never goes on the command line (ps shows it to every user).
  const password = env['PRAXISBOX_PRINTER_PASSWORD'];
  if (o.user && password === undefined) throw invalidInput('--user needs the password in PRAXISBOX_PRINTER_PASSWORD');
  return { uri: o.printer, ...(tls ? { tls } : {}), ...(o.user ? { auth: { username: o.user, password: password ?? '' } } : {}) };
}

export function ticketOf(o: PrintOptions): PrintTicket {
  const ticket: PrintTicket = {};
  if (o.tray) ticket.tray = o.tray;
  if (o.size) {
    const size = MediaSizes[o.size as keyof typeof MediaSizes];
    if (!size) throw invalidInput(`--size must be one of ${Object.keys(MediaSizes).join(', ')}`);
    ticket.mediaSize = size;
  }
  if (o.sides) {
    if (!SIDES.includes(o.sides as Sides)) throw invalidInput(`--sides must be one of ${SIDES.join(', ')}`);
    ticket.sides = o.sides as Sides;
  }
  if (o.color) {
    const mode = COLOR.find((c) => c === o.color);
    if (!mode) throw invalidInput(`--color must be one of ${COLOR.join(', ')}`);
    ticket.colorMode = mode;
  }
  if (o.copies !== undefined) {
    const n = Number(o.copies);
    if (!Number.isInteger(n) || n < 1 || n > 999) throw invalidInput('--copies must be a whole number from 1 to 999');
    ticket.copies = n;
  }
  return ticket;
}

const fail = (io: PrintCliIo, err: unknown): number => {
  io.stderr.write(`praxisbox: ${isPraxisboxError(err) ? err.message : describeError(err)}\n`);
  return 1;
};

export async function runPrint(o: PrintOptions, io: PrintCliIo): Promise<number> {
  let client: IppClient | undefined;
  try {
    const ticket = ticketOf(o);
    const head = await readHead(o.file);
    if (!isPdf(head)) throw invalidInput(`${o.file} is not a PDF (no %PDF- header)`);
    client = new IppClient({ printer: await endpointOf(o, io.env) });
    const job = await client.printJob({ document: { path: o.file }, ticket });
    const end = o.wait ? await client.waitForJob(job.jobId, { pollMs: 500 }) : job;
    const out = { jobId: job.jobId, jobUri: job.jobUri, state: end.state, reasons: end.reasons, final: end.terminal };
    io.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `job ${job.jobId}: ${end.state}${end.reasons.length > 0 ? ` (${end.reasons.join(', ')})` : ''}\n`);
    return !o.wait || end.state === 'completed' ? 0 : 1;
  } catch (err) {
    return fail(io, err);
  } finally {
    client?.close();
  }
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw invalidInput(`cannot read ${file} (${err.code ?? 'error'})`);
  });
  try {
    const buf = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function runCaps(o: PrinterOptions & { json?: boolean }, io: PrintCliIo): Promise<number> {
  let client: IppClient | undefined;
  try {
    client = new IppClient({ printer: await endpointOf(o, io.env) });
    const caps = await client.getCapabilities();
    io.stdout.write(o.json ? `${JSON.stringify(caps, null, 2)}\n` : formatCaps(caps));
    return 0;
  } catch (err) {
    return fail(io, err);
  } finally {
    client?.close();
  }
}

export function formatCaps(c: PrinterCapabilities): string {
  const sizes = (entries: PrinterCapabilities['mediaReady']): string =>
    entries.map((m) => `${m.source ?? '?'}${m.size ? ` ${m.size.x / 100}×${m.size.y / 100} mm` : ''}${m.type ? ` ${m.type}` : ''}`).join('; ') || '—';
  const problems = c.status.problems.map((p) => `${p.kind} (${p.keyword})`).join(', ');
  return [
    `printer:   ${c.name ?? '?'}${c.makeAndModel ? ` — ${c.makeAndModel}` : ''}`,
    `state:     ${c.status.state}${c.status.acceptingJobs ? '' : ', not accepting jobs'}${problems ? `; ${problems}` : ''}`,
    `PDF:       ${c.acceptsPdf ? 'yes' : 'NO — the box cannot print on this printer'} (formats: ${c.documentFormats.join(', ') || '—'})`,
    `trays:     ${c.trays.join(', ') || '—'}`,
    `loaded:    ${sizes(c.mediaReady)}`,
    `sides:     ${c.sides.supported.join(', ') || 'one-sided'}`,
    `colour:    ${c.color.supported ? 'yes' : 'no'}${c.color.modes.length > 0 ? ` (${c.color.modes.join(', ')})` : ''}`,
    `copies:    up to ${c.copies.max}`,
    `IPP:       ${c.ippVersions.join(', ') || '?'}`,
    '',
  ].join('\n');
}

export async function runDiscover(
  o: { seconds?: string; json?: boolean },
  io: PrintCliIo,
  discover: (opts: { durationMs: number }) => Promise<DiscoveredPrinter[]> = discoverPrinters,
): Promise<number> {
  try {
    const seconds = o.seconds === undefined ? 3 : Number(o.seconds);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) throw invalidInput('--seconds must be between 0 and 60');
    const printers = await discover({ durationMs: Math.round(seconds * 1000) });
    if (o.json) io.stdout.write(`${JSON.stringify(printers, null, 2)}\n`);
    else if (printers.length === 0) io.stdout.write('no IPP printers announced themselves (DNS-SD _ipp._tcp / _ipps._tcp)\n');
    else for (const p of printers) io.stdout.write(`${p.uri}\t${p.name}${p.makeAndModel ? ` (${p.makeAndModel})` : ''}${p.acceptsPdf ? '' : '  [no PDF announced]'}\n`);
    return 0;
  } catch (err) {
    return fail(io, err);
  }
}
