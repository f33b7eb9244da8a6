import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import t from 'tap';
import { IppClient } from '../../agent/printing/ipp-client.js';
import { IppTransport } from '../../agent/printing/ipp-transport.js';
import { groupAttributes } from '../../agent/printing/ipp/attribute-read.js';
import { decodeMessage } from '../../agent/printing/ipp/decode.js';
import { encodeMessage } from '../../agent/printing/ipp/encode.js';
import { attribute, enumValue, integer, mimeMediaType, type IppMessage } from '../../agent/printing/ipp/ipp-value.js';
import { printJobRequest } from '../../agent/printing/ipp/requests.js';
import { PrintError, errorForStatus } from '../../agent/printing/print-error.js';
import { freePort, startIppPrinter } from '../helpers/ipp-printer.js';
import { pdfWithPages } from '../helpers/test-pdf.js';
import { expectPrintError } from './expect-print-error.js';

const pdf = pdfWithPages(1);

t.test('busy printer: a second job gets a typed, retryable error; later it goes through', async (t) => {
  const printer = await startIppPrinter({ jobSeconds: 2, capture: false });
  t.teardown(() => printer.stop());
  const client = new IppClient({ printer: { uri: printer.uri } });
  t.teardown(() => client.close());
  const first = await client.printJob({ document: Readable.from([pdf]) });
  await new Promise((r) => setTimeout(r, 300));
  const err = await expectPrintError(t, client.printJob({ document: Readable.from([pdfWithPages(50)]) }), {
    reason: 'busy',
    retryable: true,
    code: 'DeviceUnavailable',
    ippStatus: 'server-error-busy',
    requestComplete: true,
    message: /busy/,
  });
  t.ok(err);
  await client.waitForJob(first.jobId, { pollMs: 100 });
  const second = await client.printJob({ document: Readable.from([pdf]) });
  t.ok(second.jobId > first.jobId, 'the retry after the first job is accepted');
});

t.test('a printer without PDF: clear error before any upload, and the printer agrees', async (t) => {
  const printer = await startIppPrinter({ formats: ['image/pwg-raster'], capture: false });
  t.teardown(() => printer.stop());
  const client = new IppClient({ printer: { uri: printer.uri } });
  t.teardown(() => client.close());
  let read = false;
  const doc = new Readable({ read: () => ((read = true), doc.push(null)) });
  await expectPrintError(t, client.printJob({ document: doc }), {
    reason: 'pdf-not-supported',
    retryable: false,
    code: 'InvalidConfig',
    message: /^printer does not accept PDF \(document-format-supported: application\/octet-stream, image\/pwg-raster\)$/,
  });
  t.equal(read, false, 'the document was never read');
  // The printer itself says the same when asked directly (client-error-document-format-not-supported).
  const transport = new IppTransport({ endpoint: { uri: printer.uri }, idleTimeoutMs: 5000, maxResponseBytes: 1 << 20 });
  t.teardown(() => transport.close());
  const target = { version: { major: 2, minor: 0 }, printerUri: printer.uri, requestingUserName: 'praxisbox' };
  const body = await transport.exchange({
    operation: 'Print-Job',
    message: encodeMessage(printJobRequest(target, 1, { documentFormat: 'application/pdf', fidelity: true, jobAttributes: [] })),
    document: Readable.from([pdf]),
    timeoutMs: 5000,
    idempotent: false,
  });
  const response = decodeMessage(body);
  // Measured: CUPS 2.4's ippeveprinter says attributes-or-values-not-supported, naming document-format.
  t.equal(response.code, 0x040b);
  const unsupported = groupAttributes(response, 'unsupported').map((a) => a.name);
  t.same(unsupported, ['document-format']);
  const e = errorForStatus(response.code, 'Print-Job', { jobOperation: true, requestComplete: true, unsupported });
  t.same([e.reason, e.message], ['pdf-not-supported', 'printer does not accept PDF (Print-Job answered client-error-attributes-or-values-not-supported)']);
});

t.test('connection refused is retryable', async (t) => {
  const port = await freePort();
  const client = new IppClient({ printer: { uri: `ipp://127.0.0.1:${port}/ipp/print` } });
  t.teardown(() => client.close());
  await expectPrintError(t, client.getCapabilities(), { reason: 'unreachable', retryable: true, code: 'DeviceUnavailable', message: /ECONNREFUSED/ });
});

/** A stand-in printer whose answer each test chooses; requests are decoded so answers can echo the request-id. */
async function fakePrinter(t: { teardown(fn: () => unknown): void }, answer: (req: IppMessage, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(decodeMessage(Buffer.concat(chunks)), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const addr = server.address() as net.AddressInfo;
  return `ipp://127.0.0.1:${addr.port}/ipp/print`;
}

const answer = (requestId: number, code = 0, extra: IppMessage['groups'] = []): Buffer =>
  encodeMessage({ version: { major: 2, minor: 0 }, code, requestId, groups: [{ name: 'operation', tag: 1, attributes: [] }, ...extra] });

t.test('garbage, truncated and mismatched answers are protocol errors, not crashes', async (t) => {
  const bodies: Array<[string, (id: number) => Buffer]> = [
    ['empty', () => Buffer.alloc(0)],
    ['html', () => Buffer.from('<html>hello</html>')],
    ['truncated', (id) => answer(id).subarray(0, 9)],
    ['wrong request-id', (id) => answer(id + 1)],
  ];
  for (const [label, body] of bodies) {
    const uri = await fakePrinter(t, (req, res) => res.writeHead(200, { 'Content-Type': 'application/ipp' }).end(body(req.requestId)));
    const client = new IppClient({ printer: { uri } });
    await expectPrintError(t, client.getPrinterAttributes(), { reason: 'protocol', retryable: false, code: 'Corrupt' });
    client.close();
    t.comment(label);
  }
});

t.test('through the whole client: 300 truncated or garbage answers end in PrintErrors', async (t) => {
  const real = answer(1, 0, [{ name: 'printer', tag: 4, attributes: [attribute('document-format-supported', mimeMediaType('application/pdf'))] }]);
  let n = 0;
  const uri = await fakePrinter(t, (req, res) => {
    n++;
    const body = Buffer.from(real);
    body.writeInt32BE(req.requestId, 4);
    // Alternate truncations and byte flips; every fifth is pure noise.
    const out = n % 5 === 0 ? Buffer.from(Array.from({ length: n % 40 }, (_, i) => (i * 37 + n) & 0xff)) : n % 2 ? body.subarray(0, n % body.length) : Buffer.from(body.map((b, i) => (i === 8 + (n % (body.length - 8)) ? b ^ 0x5a : b)));
    res.writeHead(200).end(out);
  });
  const client = new IppClient({ printer: { uri } });
  t.teardown(() => client.close());
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    let key: string;
    try {
      await client.getCapabilities();
      key = 'ok';
    } catch (err) {
      key = err instanceof PrintError ? err.reason : `untyped ${String(err)}`;
    }
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  t.same([...outcomes.keys()].filter((k) => k !== 'ok' && k !== 'protocol' && k !== 'rejected'), [], `only typed outcomes: ${JSON.stringify([...outcomes])}`);
  t.ok((outcomes.get('protocol') ?? 0) > 100);
});

t.test('HTTP-level refusals', async (t) => {
  const cases: Array<[number, string, boolean]> = [
    [401, 'auth-failed', false],
    [403, 'auth-failed', false],
    [426, 'tls-required', false],
    [503, 'unavailable', true],
    [404, 'protocol', false],
  ];
  for (const [status, reason, retryable] of cases) {
    const uri = await fakePrinter(t, (_req, res) => res.writeHead(status).end());
    const client = new IppClient({ printer: { uri } });
    await expectPrintError(t, client.getPrinterAttributes(), { reason: reason as 'auth-failed', retryable });
    client.close();
  }
});

t.test('oversized answers are refused', async (t) => {
  const uri = await fakePrinter(t, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/ipp' });
    res.write(answer(req.requestId).subarray(0, 8));
    res.end(Buffer.alloc(200_000));
  });
  const client = new IppClient({ printer: { uri }, maxResponseBytes: 100_000 });
  t.teardown(() => client.close());
  await expectPrintError(t, client.getPrinterAttributes(), { reason: 'protocol', message: /exceeds 100000 bytes/ });
});

t.test('a printer that never answers: timeout, retryable, within the limit', async (t) => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
  const port = (server.address() as net.AddressInfo).port;
  const client = new IppClient({ printer: { uri: `ipp://127.0.0.1:${port}/` }, timeouts: { queryMs: 300 } });
  t.teardown(() => client.close());
  const started = Date.now();
  await expectPrintError(t, client.getCapabilities(), { reason: 'timeout', retryable: true, code: 'Timeout', message: /within 300 ms/ });
  const took = Date.now() - started;
  t.ok(took >= 280 && took < 2000, `gave up after ${took} ms`);
  // The idle timeout fires too when the total one is generous.
  const idle = new IppClient({ printer: { uri: `ipp://127.0.0.1:${port}/` }, timeouts: { queryMs: 10_000, idleMs: 200 } });
  t.teardown(() => idle.close());
  await expectPrintError(t, idle.getCapabilities(), { reason: 'timeout', retryable: true, message: /ETIMEDOUT/ });
});

t.test('caller abort and a failing document stream', async (t) => {
  const uri = await fakePrinter(t, (req, res) => {
    const job = [{ name: 'job' as const, tag: 2, attributes: [attribute('job-id', integer(1)), attribute('job-state', enumValue(3))] }];
    const printer = [{ name: 'printer' as const, tag: 4, attributes: [attribute('document-format-supported', mimeMediaType('application/pdf'))] }];
    setTimeout(() => res.writeHead(200).end(answer(req.requestId, 0, req.code === 0x0b ? printer : job)), 200);
  });
  const client = new IppClient({ printer: { uri } });
  t.teardown(() => client.close());
  await expectPrintError(t, client.getCapabilities(AbortSignal.timeout(50)), { reason: 'aborted', retryable: true });
  await client.getCapabilities();
  const broken = new Readable({ read: () => broken.destroy(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })) });
  await expectPrintError(t, client.printJob({ document: broken }), { reason: 'document-unreadable', retryable: false, code: 'InvalidInput', requestComplete: false });
  const job = await client.printJob({ document: Readable.from([pdf]) });
  t.same([job.jobId, job.state], [1, 'pending'], 'the client still works afterwards');
});

t.test('a printer refusing IPP/2.0 gets 1.1 from then on', async (t) => {
  const versions: string[] = [];
  const uri = await fakePrinter(t, (req, res) => {
    versions.push(`${req.version.major}.${req.version.minor}`);
    res.writeHead(200).end(answer(req.requestId, req.version.major === 2 ? 0x0503 : 0));
  });
  const client = new IppClient({ printer: { uri } });
  t.teardown(() => client.close());
  await client.getPrinterAttributes();
  await client.getPrinterAttributes();
  t.same(versions, ['2.0', '1.1', '1.1']);
  t.same(client.version, { major: 1, minor: 1 });
});

t.test('configuration mistakes are InvalidInput at construction', async (t) => {
  t.throws(() => new IppClient({ printer: { uri: 'http://printer/ipp' } }), { code: 'InvalidInput', message: /ipp:\/\/ or ipps:\/\// });
  t.throws(() => new IppClient({ printer: { uri: 'ipp://user:pw@printer/ipp' } }), { code: 'InvalidInput', message: /credentials/ });
  t.throws(() => new IppClient({ printer: { uri: 'ipps://printer/ipp' } }), { code: 'InvalidInput', message: /TLS trust/ });
  t.throws(() => new IppClient({ printer: { uri: 'ipps://printer/ipp', tls: { kind: 'pinned', sha256: ['abc'] } } }), { code: 'InvalidInput', message: /SHA-256/ });
  t.throws(() => new IppClient({ printer: { uri: 'not a uri' } }), { code: 'InvalidInput' });
});
