import { Readable } from 'node:stream';
import t from 'tap';
import { IppClient } from '../../agent/printing/ipp-client.js';
import { PeerUnavailable, startIppPrinter, type IppPrinter } from '../helpers/ipp-printer.js';
import { pdfWithPages, sha256, sha256File } from '../helpers/test-pdf.js';
import { expectPrintError } from './expect-print-error.js';

/**
 * ippeveprinter -A checks Basic credentials through PAM. The harness installs a throw-away PAM
 * service (pam_exec + a script accepting exactly one user/password) so no system account is
 * created; that needs root, which CI has. Without root the test is skipped with the reason.
 */
const credentials = { username: 'praxis-mfa', password: 'Sprechstunde: 8–12 Uhr!' };

let printer: IppPrinter | undefined;
let skip: string | false = false;
try {
  printer = await startIppPrinter({ auth: credentials, tls: true });
} catch (err) {
  if (!(err instanceof PeerUnavailable)) throw err;
  skip = err.message;
}
t.teardown(() => printer?.stop());

const client = (auth?: { username: string; password: string }): IppClient => {
  if (!printer) throw new Error('no printer');
  const c = new IppClient({ printer: { uri: printer.secureUri, tls: { kind: 'pinned', sha256: [printer.certFingerprint ?? ''] }, ...(auth ? { auth } : {}) } });
  t.teardown(() => c.close());
  return c;
};

t.test('right credentials: the job prints, under that user', { skip }, async (t) => {
  const c = client(credentials);
  const pdf = pdfWithPages(1);
  const job = await c.printJob({ document: Readable.from([pdf]) });
  const seen = await printer!.capturedJob(job.jobId);
  t.equal(await sha256File(seen.documentPath), sha256(pdf));
  t.equal(seen.env['IPP_JOB_ORIGINATING_USER_NAME'], credentials.username);
  t.equal((await c.waitForJob(job.jobId, { pollMs: 100 })).state, 'completed');
});

t.test('wrong password: auth-failed, final, message without the password', { skip }, async (t) => {
  const c = client({ username: credentials.username, password: 'falsch' });
  const err = await expectPrintError(t, c.printJob({ document: Readable.from([pdfWithPages(1)]) }), { reason: 'auth-failed', retryable: false, code: 'InvalidConfig' });
  t.notMatch(err?.message ?? '', /falsch|praxis-mfa/);
});

t.test('wrong user and no credentials are refused too', { skip }, async (t) => {
  await expectPrintError(t, client({ username: 'someone', password: credentials.password }).printJob({ document: Readable.from([pdfWithPages(1)]) }), { reason: 'auth-failed' });
  await expectPrintError(t, client().printJob({ document: Readable.from([pdfWithPages(1)]) }), { reason: 'auth-failed', retryable: false });
});

t.test('queries that ippeveprinter leaves open still work without credentials', { skip }, async (t) => {
  t.equal((await client().getCapabilities()).acceptsPdf, true);
});
