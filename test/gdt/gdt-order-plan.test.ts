import t from 'tap';
import { nextOrderFile, orderRecord, toGdtDate } from '../../agent/gdt/order-plan.js';
import { currentOrder, matchOrder } from '../../agent/gdt/order-match.js';
import { parseGdt, writeGdt } from '../../agent/gdt/codec/index.js';

const device = { deviceGdtId: 'EKG_TYP1', ownGdtId: 'PRAX_EDV', charset: 'iso-8859-1' as const, gdtVersion: '02.10' as const };
const patient = { number: '2345', surname: 'Mustermann', firstName: 'Franz', birthDate: '1945-10-01', sex: 'male' as const, heightCm: 178, weightKg: 79.5 };

t.test('a 6302 order: header, patient, test; exactly the GDT 2.1 bytes', async (t) => {
  const record = orderRecord(device, { kind: 'order', patient, testCode: 'EKG01', orderId: 'ord-1', comment: 'bitte nüchtern' });
  const bytes = writeGdt([record], { charset: 'iso-8859-1' });
  t.equal(
    bytes.toString('latin1'),
    [
      '01380006302',
      '014810000220',
      '0178315EKG_TYP1',
      '0178316PRAX_EDV',
      '01092063',
      '014921802.10',
      '01330002345',
      '0193101Mustermann',
      '0143102Franz',
      '017310301101945',
      '01031101',
      '0123622178',
      '013362379,5',
      '0148402EKG01',
      '0236227bitte nüchtern',
      '',
    ].join('\r\n'),
  );
  const back = parseGdt(bytes, { strict: true });
  t.equal(back.records.length, 1, 'strictly valid');
  t.equal(back.charset, 'iso-8859-1');
});

t.test('GDT 3 writes the order id as 8310 and sex as letters; cancel and master data carry what they need', async (t) => {
  const gdt3 = { ...device, gdtVersion: '03.00' as const };
  const order = orderRecord(gdt3, { kind: 'order', patient: { number: '1', sex: 'diverse' }, testCode: 'LUFU01', orderId: 'A-17' });
  t.same(order.fields.map((f) => `${f.id}=${f.value}`), ['8000=6302', '8315=EKG_TYP1', '8316=PRAX_EDV', '9206=3', '9218=03.00', '3000=1', '3110=D', '8402=LUFU01', '8310=A-17']);
  const cancel = orderRecord(gdt3, { kind: 'cancel', patient, testCode: 'LUFU01', orderId: 'A-17' });
  t.same(cancel.fields.map((f) => f.id), ['8000', '8315', '8316', '9206', '9218', '3000', '3101', '3102', '3103', '3110', '8402', '8310']);
  t.equal(cancel.fields[0]?.value, '6303');
  const master = orderRecord(device, { kind: 'master-data', patient });
  t.same(master.fields.map((f) => f.id), ['8000', '8315', '8316', '9206', '9218', '3000', '3101', '3102', '3103', '3110', '3622', '3623']);
  t.equal(master.fields[0]?.value, '6301');
  const gdt2 = orderRecord(device, { kind: 'order', patient: { number: '1', sex: 'diverse' }, testCode: 'X', orderId: 'A-17' });
  t.notOk(gdt2.fields.some((f) => f.id === '3110' || f.id === '8310'), 'GDT 2.1 has neither a code for diverse nor an order id field');
});

t.test('characters the charset cannot carry are refused, never replaced', async (t) => {
  const record = orderRecord({ ...device, charset: '7bit' }, { kind: 'order', patient: { number: '1', surname: 'Łukasz' }, testCode: 'EKG01' });
  t.throws(() => writeGdt([record], { charset: '7bit' }), { code: 'InvalidInput' });
  t.equal(toGdtDate('1945-10-01'), '01101945');
  t.equal(toGdtDate('01101945'), '01101945');
});

t.test('file names: fixed waits while the previous file is there; incrementing takes the next free counter', async (t) => {
  t.same(nextOrderFile('fixed', 'EKGTPRAX', new Set(), 0), { name: 'EKGTPRAX.GDT', counter: 0 });
  t.same(nextOrderFile('fixed', 'EKGTPRAX', new Set(['EKGTPRAX.GDT']), 0), { wait: 'previous-unconsumed' });
  t.same(nextOrderFile('fixed', 'EKGTPRAX', new Set(['PRAXEKGT.GDT']), 0), { name: 'EKGTPRAX.GDT', counter: 0 });
  t.same(nextOrderFile('incrementing', 'EKGTPRAX', new Set(), 0), { name: 'EKGTPRAX.001', counter: 1 });
  t.same(nextOrderFile('incrementing', 'EKGTPRAX', new Set(['EKGTPRAX.006']), 5), { name: 'EKGTPRAX.007', counter: 7 });
  t.same(nextOrderFile('incrementing', 'EKGTPRAX', new Set(), 999), { name: 'EKGTPRAX.001', counter: 1 }, 'wraps after 999');
  const all = new Set(Array.from({ length: 999 }, (_, i) => `EKGTPRAX.${String(i + 1).padStart(3, '0')}`));
  t.same(nextOrderFile('incrementing', 'EKGTPRAX', all, 4), { wait: 'all-counters-taken' });
});

t.test('order match: request id, then patient and test, newest first', async (t) => {
  const open = [
    { orderId: 'o1', testCode: 'EKG01', patientNumber: '10', writtenAt: 1 },
    { orderId: 'o2', testCode: 'LUFU01', patientNumber: '10', writtenAt: 2 },
    { orderId: 'o3', testCode: 'EKG01', patientNumber: '10', writtenAt: 3 },
    { orderId: 'o4', testCode: 'EKG01', patientNumber: '20', writtenAt: 4 },
  ];
  t.equal(matchOrder(open, { patientNumber: '10', testCode: 'EKG01' })?.orderId, 'o3');
  t.equal(matchOrder(open, { patientNumber: ' 10 ', testCode: 'lufu01' })?.orderId, 'o2');
  t.equal(matchOrder(open, { patientNumber: '10', testCode: 'SONO00' })?.orderId, 'o3', 'unknown test: newest for the patient');
  t.equal(matchOrder(open, { patientNumber: '10' })?.orderId, 'o3');
  t.equal(matchOrder(open, { patientNumber: '20', requestId: 'o1' })?.orderId, 'o1', 'an echoed request id decides');
  t.equal(matchOrder(open, { patientNumber: '30' }), undefined);
  t.equal(matchOrder(open, {}), undefined);
  t.equal(currentOrder(open)?.orderId, 'o4');
  t.equal(currentOrder([]), undefined);
});
