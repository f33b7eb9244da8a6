import t from 'tap';
import { gdtDateToIso, viewRecord } from '../../agent/gdt/codec/index.js';
import type { GdtRecord } from '../../agent/gdt/codec/index.js';

const rec = (...pairs: Array<[string, string]>): GdtRecord => ({ fields: pairs.map(([id, value]) => ({ id, value })) });

t.test('master data: header and patient, first occurrence wins', async (t) => {
  const view = viewRecord(
    rec(
      ['8000', '6301'], ['8315', 'EKG_TYP1'], ['8316', 'PRAX_EDV'], ['9206', '2'], ['9218', '02.10'], ['3000', '2345'], ['3100', 'von'],
      ['3101', 'Mustermann'], ['3102', 'Franz'], ['3103', '01101945'], ['3104', 'Dr.'], ['3105', 'A123'], ['3106', '24106 Kiel'],
      ['3107', 'Hurleweg 17a'], ['3108', '1'], ['3110', '1'], ['3622', '178'], ['3623', '079'], ['3101', 'Zweitname'],
    ),
  );
  t.same(view, {
    kind: 'master-data',
    header: { type: '6301', receiverId: 'EKG_TYP1', senderId: 'PRAX_EDV', charsetCode: '2', version: '02.10' },
    patient: {
      number: '2345', nameAffix: 'von', surname: 'Mustermann', firstName: 'Franz', birthDate: '01101945', birthDateIso: '1945-10-01', title: 'Dr.',
      insuranceNumber: 'A123', residence: '24106 Kiel', street: 'Hurleweg 17a', insuredType: '1', sexCode: '1', sex: 'male', height: '178', weight: '079',
    },
  });
  t.same(viewRecord(rec(['8000', '6300'], ['3000', '7'])), { kind: 'request-master-data', header: { type: '6300' }, patient: { number: '7' } });
});

t.test('sex codes of GDT 2.1 and 3.x', async (t) => {
  const sex = (code: string): string | undefined => viewRecord(rec(['8000', '6301'], ['3110', code])).patient.sex;
  t.same(['1', '2', 'M', 'W', 'w', 'D', 'X', 'U', '9'].map(sex), ['male', 'female', 'male', 'female', 'female', 'diverse', 'unspecified', 'unknown', undefined]);
});

t.test('birth dates: only real calendar dates get an ISO form', async (t) => {
  t.same(['01101945', '29022000', '29021900', '00001970', '31041990', '1101945', ' 01101945 '].map(gdtDateToIso), [
    '1945-10-01', '2000-02-29', undefined, undefined, undefined, undefined, '1945-10-01',
  ]);
});

t.test('an order (6302) and a cancellation (6303)', async (t) => {
  const order = viewRecord(rec(['8000', '6302'], ['3000', '1'], ['8402', 'EKG01'], ['6227', 'bitte nüchtern']));
  t.same(order, {
    kind: 'order',
    header: { type: '6302' },
    patient: { number: '1' },
    examination: { testCode: 'EKG01', tests: [], findings: { text: [], externalText: [], comments: ['bitte nüchtern'], table: [] }, attachments: [] },
  });
  t.equal(viewRecord(rec(['8000', '6303'], ['8402', 'EKG01'])).kind, 'cancel-order');
});

t.test('results: test groups, findings, attachments', async (t) => {
  const view = viewRecord(
    rec(
      ['8000', '6310'], ['8402', 'LUFU01'], ['6200', '15012024'], ['6201', '103015'], ['6220', 'Befund 1'], ['6220', ''], ['6221', 'extern'],
      ['6228', ' FVC   4,1 l '],
      ['8411', 'ohne Id'], ['8420', '1'],
      ['8410', 'FVC'], ['8411', 'Vitalkapazität'], ['8418', 'B'], ['8420', '4,1'], ['8421', 'l'], ['8432', '15012024'], ['8439', '103015'],
      ['8460', '3,5-5,5'], ['8461', '3,5'], ['8462', '5,5'], ['8470', 'Hinweis'], ['8480', 'Zeile 1'], ['8480', 'Zeile 2'], ['8420', '4,2'], ['8490', 'x'],
      ['8410', 'FEV1'], ['8420', '3,2'],
      ['6303', 'PDF'], ['6305', 'C:\\GDT\\a.pdf'], ['6302', '77'], ['6303', 'PDF'], ['6304', 'Kurve'], ['6305', 'C:\\GDT\\b.pdf'], ['6305', 'C:\\GDT\\c.pdf'],
      ['9999', 'unbekannt'],
    ),
  );
  if (view.kind !== 'results') return t.fail(`kind ${view.kind}`);
  t.same(view.examination.testCode, 'LUFU01');
  t.same([view.examination.date, view.examination.time], ['15012024', '103015']);
  t.same(view.examination.findings, { text: ['Befund 1', ''], externalText: ['extern'], comments: [], table: [' FVC   4,1 l '] });
  t.same(view.examination.tests, [
    { name: 'ohne Id', value: '1', remarks: [], resultText: [], other: [] },
    {
      id: 'FVC', name: 'Vitalkapazität', status: 'B', value: '4,1', unit: 'l', date: '15012024', time: '103015', normalText: '3,5-5,5', normalLow: '3,5',
      normalHigh: '5,5', remarks: ['Hinweis'], resultText: ['Zeile 1', 'Zeile 2'], other: [{ id: '8420', value: '4,2' }, { id: '8490', value: 'x' }],
    },
    { id: 'FEV1', value: '3,2', remarks: [], resultText: [], other: [] },
  ]);
  t.same(view.examination.attachments, [
    { format: 'PDF', path: 'C:\\GDT\\a.pdf' },
    { archiveNumber: '77', format: 'PDF', description: 'Kurve', path: 'C:\\GDT\\b.pdf' },
    { path: 'C:\\GDT\\c.pdf' },
  ]);
  t.equal(viewRecord(rec(['8000', '6311'])).kind, 'show-results');
});

t.test('unknown record types still get header and patient', async (t) => {
  t.same(viewRecord(rec(['8000', '6200'], ['3101', 'X'])), { kind: 'unknown', header: { type: '6200' }, patient: { surname: 'X' } });
  t.same(viewRecord(rec(['3101', 'X'])), { kind: 'unknown', header: { type: '' }, patient: { surname: 'X' } });
});
