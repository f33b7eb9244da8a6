import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { promisify } from 'node:util';
import t from 'tap';
import { IppClient } from '../../agent/printing/ipp-client.js';
import { normalizeFingerprint, probeCertificate } from '../../agent/printing/tls-trust.js';
import { tempDir } from '../helpers/fixtures.js';
import { startIppPrinter } from '../helpers/ipp-printer.js';
import { pdfWithPages, sha256, sha256File } from '../helpers/test-pdf.js';
import { expectPrintError } from './expect-print-error.js';

const printer = await startIppPrinter({ tls: true });
t.teardown(() => printer.stop());
const pin = printer.certFingerprint ?? '';
const certPem = printer.certPem ?? '';

/** Another self-signed certificate: the "wrong" pin and the "wrong" CA. */
async function otherCertificate(): Promise<{ key: string; cert: string; fingerprint: string }> {
  const { dir, cleanup } = await tempDir();
  try {
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k'), '-out', path.join(dir, 'c'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const cert = await fs.readFile(path.join(dir, 'c'), 'utf8');
    return { key: await fs.readFile(path.join(dir, 'k'), 'utf8'), cert, fingerprint: new (await import('node:crypto')).X509Certificate(cert).fingerprint256 };
  } finally {
    await cleanup();
  }
}
const other = await otherCertificate();

t.test('ipps with the pinned certificate prints byte-identical', async (t) => {
  // Pins are accepted in any case and with or without colons.
  const client = new IppClient({ printer: { uri: printer.secureUri, tls: { kind: 'pinned', sha256: [other.fingerprint, pin.replace(/:/g, '').toLowerCase()] } } });
  t.teardown(() => client.close());
  const pdf = pdfWithPages(2);
  const job = await client.printJob({ document: Readable.from([pdf]), ticket: { tray: 'main' } });
  const seen = await printer.capturedJob(job.jobId);
  t.equal(await sha256File(seen.documentPath), sha256(pdf));
  t.match(seen.env['IPP_JOB_PRINTER_URI'] ?? '', /^ipps:\/\/localhost:/, 'the printer saw the ipps URI');
  t.equal((await client.waitForJob(job.jobId, { pollMs: 100 })).state, 'completed');
});

t.test('a wrong pin is refused before anything is sent, and is not retryable', async (t) => {
  const client = new IppClient({ printer: { uri: printer.secureUri, tls: { kind: 'pinned', sha256: [other.fingerprint] }, auth: { username: 'u', password: 'secret' } } });
  t.teardown(() => client.close());
  const err = await expectPrintError(t, client.getCapabilities(), { reason: 'tls-untrusted', retryable: false, code: 'InvalidConfig' });
  t.equal(err?.message, `printer certificate ${pin} does not match the pinned fingerprint`, 'names the fingerprint seen, for the setup page');
});

t.test('no byte of the request (credentials included) reaches a server failing the pin', async (t) => {
  const received: Buffer[] = [];
  const server = tls.createServer({ key: other.key, cert: other.cert }, (s) => s.on('data', (d: Buffer) => received.push(d)).on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  const client = new IppClient({ printer: { uri: `ipps://127.0.0.1:${port}/ipp/print`, tls: { kind: 'pinned', sha256: [pin] }, auth: { username: 'u', password: 'secret' } } });
  t.teardown(() => client.close());
  await expectPrintError(t, client.getCapabilities(), { reason: 'tls-untrusted' });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(Buffer.concat(received).length, 0);
});

t.test('CA trust: the right CA and host name pass, another CA does not', async (t) => {
  const good = new IppClient({ printer: { uri: printer.secureUri, tls: { kind: 'ca', ca: certPem } } });
  t.teardown(() => good.close());
  t.equal((await good.getCapabilities()).acceptsPdf, true);
  const wrongCa = new IppClient({ printer: { uri: printer.secureUri, tls: { kind: 'ca', ca: other.cert } } });
  t.teardown(() => wrongCa.close());
  await expectPrintError(t, wrongCa.getCapabilities(), { reason: 'tls-untrusted', retryable: false });
  // The certificate names localhost; reaching it by IP needs the expected name configured.
  const byIp = `ipps://127.0.0.1:${printer.port}/ipp/print`;
  const ipNoName = new IppClient({ printer: { uri: byIp, tls: { kind: 'ca', ca: certPem, serverName: 'printer.praxis.local' } } });
  t.teardown(() => ipNoName.close());
  await expectPrintError(t, ipNoName.getCapabilities(), { reason: 'tls-untrusted', message: /ERR_TLS_CERT_ALTNAME_INVALID/ });
  const ipWithName = new IppClient({ printer: { uri: byIp, tls: { kind: 'ca', ca: certPem, serverName: 'localhost' } } });
  t.teardown(() => ipWithName.close());
  t.equal((await ipWithName.getCapabilities()).acceptsPdf, true);
});

t.test('system trust refuses a self-signed printer', async (t) => {
  const client = new IppClient({ printer: { uri: printer.secureUri, tls: { kind: 'system' } } });
  t.teardown(() => client.close());
  await expectPrintError(t, client.getCapabilities(), { reason: 'tls-untrusted', retryable: false, message: /SELF_SIGNED/ });
});

t.test('ipps to a plain-text port fails as TLS, not as a retryable outage', async (t) => {
  // resume(): an unread ClientHello would keep the server socket (and close()) waiting forever.
  const plain = net.createServer((s) => s.resume().end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => plain.close(() => r())));
  const client = new IppClient({ printer: { uri: `ipps://127.0.0.1:${(plain.address() as net.AddressInfo).port}/`, tls: { kind: 'pinned', sha256: [pin] } } });
  t.teardown(() => client.close());
  await expectPrintError(t, client.getCapabilities(), { reason: 'tls-failed', retryable: false, message: /ERR_SSL/ });
});

t.test('probeCertificate shows what to pin', async (t) => {
  const seen = await probeCertificate('127.0.0.1', printer.port, 5000);
  t.equal(seen.fingerprint256, pin);
  t.equal(seen.subject, 'localhost');
  t.equal(normalizeFingerprint(pin.toLowerCase().replace(/:/g, ' ')), pin);
});
