import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { runCli } from '../../agent/cli/main.js';
import { parseCollectionText, startIppPrinter } from '../helpers/ipp-printer.js';
import { tempDir } from '../helpers/fixtures.js';
import { pdfWithPages, sha256, sha256File } from '../helpers/test-pdf.js';

/** `praxisbox print`, `printers caps`, `printers discover` in-process against a real printer. */

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const code = await runCli(args, { stdout, stderr, stdin: new PassThrough(), env: { ...env } });
  return { code, stdout: out, stderr: err };
}

const printer = await startIppPrinter({ duplex: true });
t.teardown(() => printer.stop());
const { dir, cleanup } = await tempDir('praxisbox-print-cli-');
t.teardown(cleanup);
const pdf = pdfWithPages(2);
const file = path.join(dir, 'au.pdf');
await fs.writeFile(file, pdf);

t.test('print --wait: once, on the tray, final state printed', async (t) => {
  const r = await cli(['print', file, '--printer', printer.uri, '--tray', 'main', '--size', 'A4', '--sides', 'two-sided-long-edge', '--copies', '2', '--wait']);
  t.equal(r.code, 0, r.stderr);
  const m = /^job (\d+): completed \(job-completed-successfully\)\n$/.exec(r.stdout);
  t.ok(m, r.stdout);
  const seen = await printer.capturedJob(Number(m?.[1]));
  t.equal(await sha256File(seen.documentPath), sha256(pdf));
  t.same(parseCollectionText(seen.env['IPP_MEDIA_COL'] ?? ''), { 'media-size': { 'x-dimension': '21000', 'y-dimension': '29700' }, 'media-source': 'main' });
  t.equal(seen.env['IPP_SIDES'], 'two-sided-long-edge');
  t.equal(seen.env['IPP_COPIES'], '2');
});

t.test('print --json without --wait: the state the printer answered', async (t) => {
  const r = await cli(['print', file, '--printer', printer.uri, '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { jobId: number; state: string; final: boolean; jobUri: string };
  t.ok(out.jobId > 0);
  t.match(out.jobUri, /\/ipp\/print\/\d+$/);
  t.equal(typeof out.final, 'boolean');
  t.ok(['pending', 'processing', 'completed'].includes(out.state), out.state);
});

t.test('print refuses what cannot work, with the reason', async (t) => {
  const text = path.join(dir, 'note.txt');
  await fs.writeFile(text, 'kein PDF');
  t.match(await cli(['print', text, '--printer', printer.uri]), { code: 1, stderr: `praxisbox: ${text} is not a PDF (no %PDF- header)\n` });
  t.match(await cli(['print', path.join(dir, 'missing.pdf'), '--printer', printer.uri]), { code: 1, stderr: /cannot read .*missing\.pdf \(ENOENT\)/ });
  t.match(await cli(['print', file, '--printer', printer.uri, '--sides', 'both']), { code: 1, stderr: /--sides must be one of one-sided, two-sided-long-edge, two-sided-short-edge/ });
  t.match(await cli(['print', file, '--printer', printer.uri, '--copies', '0']), { code: 1, stderr: /--copies must be a whole number/ });
  t.match(await cli(['print', file, '--printer', printer.uri, '--tray', 'tray-9']), { code: 1, stderr: /printer does not support tray tray-9 \(offers: auto, main, manual, by-pass-tray\)/ });
  t.match(await cli(['print', file, '--printer', 'http://x/']), { code: 1, stderr: /printer URI must start with ipp:\/\/ or ipps:\/\// });
  t.match(await cli(['print', file, '--printer', printer.uri, '--user', 'praxis']), { code: 1, stderr: /PRAXISBOX_PRINTER_PASSWORD/ });
  t.match(await cli(['print', file]), { code: 2, stderr: /required option '--printer <uri>'/ });
  const raster = await startIppPrinter({ formats: ['image/pwg-raster'], capture: false });
  t.teardown(() => raster.stop());
  t.match(await cli(['print', file, '--printer', raster.uri, '--wait']), { code: 1, stderr: /^praxisbox: printer does not accept PDF \(document-format-supported: .*image\/pwg-raster/ });
});

t.test('printers caps: what the printer offers', async (t) => {
  const r = await cli(['printers', 'caps', printer.uri]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^printer: {3}Praxisbox Test Printer/m);
  t.match(r.stdout, /^PDF: {7}yes/m);
  t.match(r.stdout, /^trays: {5}auto, main, manual, by-pass-tray$/m);
  t.match(r.stdout, /^sides: {5}one-sided, two-sided-long-edge, two-sided-short-edge$/m);
  const json = await cli(['printers', 'caps', printer.uri, '--json']);
  t.match(JSON.parse(json.stdout), { acceptsPdf: true, trays: ['auto', 'main', 'manual', 'by-pass-tray'], status: { state: 'idle' } });
  t.match(await cli(['printers', 'caps', 'ipp://127.0.0.1:1/ipp/print']), { code: 1, stderr: /printer is not reachable \(ECONNREFUSED\)/ });
});

t.test('printers discover', async (t) => {
  const r = await cli(['printers', 'discover', '--seconds', '0.5', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.ok(Array.isArray(JSON.parse(r.stdout)));
  t.match(await cli(['printers', 'discover', '--seconds', 'lange']), { code: 1, stderr: /--seconds must be between 0 and 60/ });
});
