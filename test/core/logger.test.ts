import t from 'tap';
import { patientData, revealDeep } from '../../agent/core/patient-data.js';
import { PraxisboxError, ErrorCode, describeError, toErrorReply } from '../../agent/core/errors.js';
import { inspect } from 'node:util';
import { captureLog } from '../helpers/quiet-log.js';

t.test('PatientData shows only its marker, everywhere', async (t) => {
  const p = patientData({ surname: 'Mustermann', birthDate: '1945-10-01' });
  t.equal(JSON.stringify({ p }), '{"p":"[patient data]"}');
  t.equal(`${p}`, '[patient data]');
  t.equal(inspect({ p }), '{ p: [patient data] }');
  t.same(revealDeep({ a: [p] }), { a: [{ surname: 'Mustermann', birthDate: '1945-10-01' }] });
});

t.test('log lines: PatientData, personal keys and buffers are scrubbed at any depth', async (t) => {
  const { log, text, lines } = captureLog();
  log.info({ event: { person: patientData({ surname: 'Mustermann' }) } }, 'card read');
  log.info({ gdt: { record: { surname: 'Franz', firstName: 'Xaver', birthDate: '01101945', testCode: 'EKG01' } } }, 'order');
  log.info({ blob: Buffer.from('Mustermann') }, 'bytes');
  const out = text();
  t.notMatch(out, /Mustermann|Franz|Xaver|01101945/);
  t.match(out, /EKG01/, 'non-personal fields stay');
  t.equal(JSON.parse(lines[2] as string).blob, '[10 bytes]');
});

t.test('third-party error messages are withheld (they quote input); our own are kept', async (t) => {
  const { log, text } = captureLog();
  let parseError: unknown;
  try {
    JSON.parse('Mustermann, Erika');
  } catch (err) {
    parseError = err;
  }
  t.match(String((parseError as Error).message), /Mustermann/, 'V8 really quotes the input');
  log.error({ err: parseError }, 'parse failed');
  log.error({ err: new PraxisboxError(ErrorCode.InvalidInput, 'field 3101 in line 7 is too long') }, 'gdt');
  const out = text();
  t.notMatch(out, /Mustermann/);
  t.match(out, /field 3101 in line 7 is too long/);
  t.equal(describeError(parseError), 'SyntaxError');
  t.same(toErrorReply(parseError), { code: 'Internal', message: 'internal error (see the box log for details)' });
  const sys = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' });
  t.equal(describeError(sys), 'ENOENT (open)');
});
