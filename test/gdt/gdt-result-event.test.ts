import t from 'tap';
import fs from 'node:fs';
import { buildResultEvent, mediaType } from '../../agent/gdt/result-event.js';
import { masterDataPatient, receiverWarnings, resultOrderIds } from '../../agent/gdt/result-orders.js';
import { parseGdt } from '../../agent/gdt/codec/index.js';
import { revealDeep } from '../../agent/core/patient-data.js';
import { fixture } from '../helpers/fixtures.js';
import { fixturePatientValues, leakedValues } from '../helpers/patient-values.js';

const spec6310 = parseGdt(fs.readFileSync(fixture('gdt-public', 'levinalex-xdt_gdt2_1-2.txt')));
const pdf = Buffer.from('%PDF-1.4 test');

function build() {
  return buildResultEvent({
    deviceId: 'bdm1',
    deviceName: 'Langzeit-RR',
    importId: 'i'.repeat(32),
    file: 'PRAXLZBD.GDT',
    archiveFile: '20240115T103015Z-abc-PRAXLZBD.GDT',
    sha256: 'a'.repeat(64),
    size: 954,
    receivedAt: '2024-01-15T10:30:15.000Z',
    parse: spec6310,
    indexes: [0],
    orderIds: ['ord-9'],
    attachments: [
      { record: 0, index: 0, format: 'PDF', description: 'Bericht', name: 'Mustermann.pdf', read: { size: pdf.length, sha256: 'b'.repeat(64), content: pdf } },
      { record: 0, index: 1, name: 'x.pdf', problem: { code: 'attachment-too-large', message: 'the attachment is 99 bytes; the limit is 10', size: 99 } },
    ],
    warnings: [{ code: 'attachment-too-large', message: 'attachment 2: the attachment is 99 bytes; the limit is 10' }],
    reimport: false,
  });
}

t.test('gdt.result from the spec\'s 6310 example: ids, results, attachments, warnings', async (t) => {
  const data = build();
  const plain = revealDeep(data) as Record<string, unknown> & { results: Array<Record<string, unknown>>; attachments: Array<Record<string, unknown>>; warnings: unknown[] };
  t.match(plain, { deviceId: 'bdm1', orderId: 'ord-9', charset: 'cp437', gdtVersion: '02.10', reimport: false, size: 954 });
  t.equal(plain.results.length, 1);
  t.match(plain.results[0], {
    recordType: '6310',
    orderId: 'ord-9',
    testCode: 'BDM01',
    date: '23101998',
    senderId: 'LZBD_SYS',
    receiverId: 'PRAX_EDV',
    patient: { number: '02345', surname: 'Mustermann', firstName: 'Frank', birthDateIso: '1945-10-01', sex: 'male' },
    findings: { text: ['Dies ist ein zweizeiliger', 'Befund zur 24h-Blutdruckmessung.'], comments: ['Anmerkungen zu einer Langzeit-Blutdruckmessung.'] },
  });
  const tests = plain.results[0]?.['tests'] as Array<Record<string, unknown>>;
  t.equal(tests.length, 2);
  t.match(tests[0], { id: 'SYSMXTG', name: 'Systole max Tagphase', value: '142', unit: 'mmHg', normalHigh: '140' });
  t.match(tests[1], { id: 'SYSMNTG', value: '112', date: '24101998', time: '031200' });
  t.same(plain.attachments[0], { record: 0, type: 'application/pdf', format: 'PDF', size: pdf.length, sha256: 'b'.repeat(64), file: { name: 'Mustermann.pdf', description: 'Bericht', content: pdf.toString('base64') } });
  t.same(plain.attachments[1], { record: 0, type: 'application/pdf', size: 99, file: { name: 'x.pdf' }, problem: { code: 'attachment-too-large', message: 'the attachment is 99 bytes; the limit is 10' } });
  t.equal(plain.warnings.length, spec6310.warnings.length + 1, 'codec warnings first, then the import\'s');
  t.match(plain.warnings.at(-1), { code: 'attachment-too-large' });
});

t.test('everything personal is behind PatientData: serialised without reveal, no fixture value shows', async (t) => {
  const text = JSON.stringify(build());
  t.same(leakedValues(text, fixturePatientValues()), []);
  t.notOk(text.includes(pdf.toString('base64')), 'no attachment content');
  t.notOk(text.includes('Mustermann.pdf'), 'no attachment name');
  t.ok(text.includes('"deviceId":"bdm1"'), 'ids stay visible');
});

t.test('order ids per record, master data target, receiver warnings', async (t) => {
  const open = [
    { orderId: 'a', testCode: 'BDM01', patientNumber: '02345', writtenAt: 1 },
    { orderId: 'b', testCode: 'EKG01', patientNumber: '777', writtenAt: 2 },
  ];
  t.same(resultOrderIds(spec6310, [0], open), ['a']);
  const two = parseGdt(fs.readFileSync(fixture('gdt-public', 'crescnet-perl-xdt-parser_example2.gdt')));
  t.same(resultOrderIds(two, [0, 1], [{ orderId: 'x', testCode: '', patientNumber: '2', writtenAt: 1 }]), ['x', undefined], 'one order answers one record');
  const request = parseGdt(Buffer.from('01380006300\r\n014810000040\r\n0123000777\r\n', 'latin1'));
  t.equal(masterDataPatient(request, 0, open)?.orderId, 'b', 'the patient the 6300 names');
  const bare = parseGdt(Buffer.from('01380006300\r\n014810000027\r\n', 'latin1'));
  t.equal(masterDataPatient(bare, 0, [open[0]!])?.orderId, 'a', 'else the newest open order');
  t.equal(masterDataPatient(bare, 0, []), undefined);
  t.same(receiverWarnings(spec6310, [0], 'PRAX_EDV'), []);
  t.same(receiverWarnings(spec6310, [0], 'praxbox'), [{ code: 'receiver-id', line: 3, field: '8315', message: "record 1: 8315 names another receiver than this box's GDT id" }]);
});

t.test('media types from 6303 or the extension', async (t) => {
  t.equal(mediaType('PDF', undefined), 'application/pdf');
  t.equal(mediaType(' pdf ', 'x.bin'), 'application/pdf');
  t.equal(mediaType(undefined, 'scan.JPG'), 'image/jpeg');
  t.equal(mediaType('XYZ', 'blob'), 'application/octet-stream');
});
