import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ErrorCode, isPraxisboxError } from '../../agent/core/errors.js';
import { collections, dateTimeToDate, dateToDateTime, find, firstInteger, groupAttributes, strings } from '../../agent/printing/ipp/attribute-read.js';
import { DelimiterTag, Operation } from '../../agent/printing/ipp/constants.js';
import { decodeMessage } from '../../agent/printing/ipp/decode.js';
import { encodeMessage } from '../../agent/printing/ipp/encode.js';
import { attribute, collection, integer, keyword, name, outOfBand, rangeOfInteger, text, type IppMessage, type IppValue } from '../../agent/printing/ipp/ipp-value.js';
import { cancelJobRequest, getJobAttributesRequest, printJobRequest, truncateName } from '../../agent/printing/ipp/requests.js';
import { repoRoot } from '../helpers/fixtures.js';

const realResponse = fs.readFileSync(path.join(repoRoot, 'test/printing/data/ippeveprinter-printer-attributes.bin'));

function corruptAt(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (isPraxisboxError(err) && err.code === ErrorCode.Corrupt) return Number(err.details?.['offset']);
    throw err;
  }
  throw new Error('expected a Corrupt error');
}

const target = { version: { major: 2, minor: 0 }, printerUri: 'ipp://printer.local:631/ipp/print', requestingUserName: 'praxisbox' };

t.test('Cancel-Job request has the exact RFC 8010 byte layout', async (t) => {
  const bytes = encodeMessage(cancelJobRequest(target, 42, 7));
  const expected = Buffer.concat([
    Buffer.from([0x02, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x2a, 0x01]),
    Buffer.from([0x47, 0x00, 0x12]), Buffer.from('attributes-charset'), Buffer.from([0x00, 0x05]), Buffer.from('utf-8'),
    Buffer.from([0x48, 0x00, 0x1b]), Buffer.from('attributes-natural-language'), Buffer.from([0x00, 0x02]), Buffer.from('en'),
    Buffer.from([0x45, 0x00, 0x0b]), Buffer.from('printer-uri'), Buffer.from([0x00, 0x21]), Buffer.from(target.printerUri),
    Buffer.from([0x21, 0x00, 0x06]), Buffer.from('job-id'), Buffer.from([0x00, 0x04, 0x00, 0x00, 0x00, 0x07]),
    Buffer.from([0x42, 0x00, 0x14]), Buffer.from('requesting-user-name'), Buffer.from([0x00, 0x09]), Buffer.from('praxisbox'),
    Buffer.from([0x03]),
  ]);
  t.equal(bytes.toString('hex'), expected.toString('hex'));
});

t.test('collections encode as begCollection / memberAttrName / endCollection (RFC 8010 §3.1.6)', async (t) => {
  const msg: IppMessage = {
    version: { major: 2, minor: 0 },
    code: Operation.PrintJob,
    requestId: 1,
    groups: [{ name: 'job', tag: DelimiterTag.job, attributes: [attribute('media-col', collection({ 'media-source': keyword('main') }))] }],
  };
  const bytes = encodeMessage(msg);
  const expected = Buffer.concat([
    Buffer.from([0x02, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x02]),
    Buffer.from([0x34, 0x00, 0x09]), Buffer.from('media-col'), Buffer.from([0x00, 0x00]),
    Buffer.from([0x4a, 0x00, 0x00, 0x00, 0x0c]), Buffer.from('media-source'),
    Buffer.from([0x44, 0x00, 0x00, 0x00, 0x04]), Buffer.from('main'),
    Buffer.from([0x37, 0x00, 0x00, 0x00, 0x00]),
    Buffer.from([0x03]),
  ]);
  t.equal(bytes.toString('hex'), expected.toString('hex'));
});

t.test('every value syntax survives encode → decode', async (t) => {
  const values: Record<string, IppValue[]> = {
    int: [integer(-5), integer(2147483647)],
    en: [{ type: 'enum', value: 9 }],
    bool: [{ type: 'boolean', value: true }, { type: 'boolean', value: false }],
    range: [rangeOfInteger(1, 999)],
    res: [{ type: 'resolution', crossFeed: 600, feed: 1200, units: 3 }],
    date: [{ type: 'dateTime', value: { year: 2026, month: 11, day: 30, hour: 1, minutes: 2, seconds: 3, deciSeconds: 4, utcDirection: '+', utcHours: 1, utcMinutes: 0 } }],
    tl: [{ type: 'textWithLanguage', value: 'Grüße', language: 'de' }],
    nl: [{ type: 'nameWithLanguage', value: 'Büro', language: 'de-DE' }],
    strs: [text('t'), name('n'), keyword('k'), { type: 'uri', value: 'ipp://x/' }, { type: 'uriScheme', value: 'ipps' }, { type: 'charset', value: 'utf-8' }, { type: 'naturalLanguage', value: 'de' }, { type: 'mimeMediaType', value: 'application/pdf' }],
    octets: [{ type: 'octetString', value: new Uint8Array([0, 1, 255]) }],
    oob: [outOfBand('unsupported'), outOfBand('unknown'), outOfBand('no-value'), outOfBand('not-settable'), outOfBand('delete-attribute'), outOfBand('admin-define'), outOfBand('default')],
    opaque: [{ type: 'opaque', tag: 0x7f, bytes: new Uint8Array([0x40, 0, 0, 1, 9]) }, { type: 'opaque', tag: 0x24, bytes: new Uint8Array([1]) }],
    nested: [
      collection({ 'media-size': collection({ 'x-dimension': integer(21000), 'y-dimension': integer(29700) }), 'media-source': keyword('tray-2'), 'media-type': [keyword('labels'), name('Etiketten')] }),
      collection({ 'media-source': keyword('manual') }),
    ],
  };
  const msg: IppMessage = {
    version: { major: 2, minor: 0 },
    code: 0x0001,
    requestId: 99,
    groups: [
      { name: 'operation', tag: DelimiterTag.operation, attributes: [attribute('attributes-charset', { type: 'charset', value: 'utf-8' })] },
      { name: 'printer', tag: DelimiterTag.printer, attributes: Object.entries(values).map(([n, v]) => attribute(n, ...v)) },
      { name: 'job', tag: DelimiterTag.job, attributes: [attribute('job-id', integer(1))] },
      { name: 'job', tag: DelimiterTag.job, attributes: [attribute('job-id', integer(2))] },
    ],
  };
  const decoded = decodeMessage(encodeMessage(msg));
  t.same(decoded.version, { major: 2, minor: 0 });
  t.equal(decoded.code, 1);
  t.equal(decoded.requestId, 99);
  t.equal(decoded.data.length, 0);
  t.same(decoded.groups.map((g) => g.name), ['operation', 'printer', 'job', 'job']);
  t.same(decoded.groups, msg.groups);
  t.same(groupAttributes(decoded, 'job').map((a) => a.values), [[integer(1)], [integer(2)]]);
});

t.test('dateTime helpers keep the UTC offset', async (t) => {
  const d = dateTimeToDate({ year: 2026, month: 1, day: 2, hour: 10, minutes: 30, seconds: 0, deciSeconds: 5, utcDirection: '+', utcHours: 1, utcMinutes: 0 });
  t.equal(d.toISOString(), '2026-01-02T09:30:00.500Z');
  const back = dateToDateTime(new Date('2026-05-06T07:08:09.900Z'));
  t.same(back, { year: 2026, month: 5, day: 6, hour: 7, minutes: 8, seconds: 9, deciSeconds: 9, utcDirection: '+', utcHours: 0, utcMinutes: 0 });
  t.equal(dateTimeToDate({ ...back, utcDirection: '-', utcHours: 5, utcMinutes: 30 }).toISOString(), '2026-05-06T12:38:09.900Z');
});

t.test('a real ippeveprinter Get-Printer-Attributes answer decodes', async (t) => {
  const msg = decodeMessage(realResponse);
  t.equal(msg.code, 0, 'successful-ok');
  t.equal(msg.requestId, 7);
  const printer = groupAttributes(msg, 'printer');
  t.same(strings(printer, 'media-source-supported'), ['auto', 'main', 'manual', 'by-pass-tray']);
  t.same(strings(printer, 'sides-supported'), ['one-sided', 'two-sided-long-edge', 'two-sided-short-edge']);
  t.equal(firstInteger(printer, 'printer-state'), 3);
  const database = collections(printer, 'media-col-database');
  t.ok(database.length >= 5);
  const a4 = database.find((m) => strings(m, 'media-key')[0] === 'iso_a4_210x297mm');
  const size = a4 && collections(a4, 'media-size')[0];
  t.same(size && [firstInteger(size, 'x-dimension'), firstInteger(size, 'y-dimension')], [21000, 29700]);
  t.equal(find(printer, 'printer-state-change-date-time')?.values[0]?.type, 'dateTime');
  t.equal(find(printer, 'printer-resolution-supported')?.values[0]?.type, 'resolution');
  t.same(decodeMessage(encodeMessage(msg)).groups, msg.groups, 'decode → encode → decode is stable');
});

t.test('malformed input: typed Corrupt errors at the right offset', async (t) => {
  const hdr = [0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01];
  const cases: Array<[string, number[], number]> = [
    ['empty', [], 0],
    ['short header', [0x02, 0x00, 0x00], 0],
    ['no end tag', [...hdr], 8],
    ['value before group', [...hdr, 0x21], 8],
    ['reserved delimiter 0x00', [...hdr, 0x00], 8],
    ['truncated name length', [...hdr, 0x01, 0x21, 0x00], 10],
    ['negative name length', [...hdr, 0x01, 0x21, 0xff, 0xff], 10],
    ['name beyond end', [...hdr, 0x01, 0x21, 0x00, 0x05, 0x61], 12],
    ['integer with 3 bytes', [...hdr, 0x01, 0x21, 0x00, 0x01, 0x61, 0x00, 0x03, 0, 0, 1, 0x03], 9],
    ['boolean with 2 bytes', [...hdr, 0x01, 0x22, 0x00, 0x01, 0x61, 0x00, 0x02, 0, 1, 0x03], 9],
    ['additional value first', [...hdr, 0x01, 0x21, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1, 0x03], 9],
    ['memberAttrName outside collection', [...hdr, 0x01, 0x4a, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62, 0x03], 9],
    ['unclosed collection', [...hdr, 0x01, 0x34, 0x00, 0x01, 0x61, 0x00, 0x00, 0x03], 15],
    ['value before member name', [...hdr, 0x01, 0x34, 0x00, 0x01, 0x61, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x01, 0x62, 0x37, 0, 0, 0, 0, 0x03], 15],
    ['member without value', [...hdr, 0x01, 0x34, 0x00, 0x01, 0x61, 0x00, 0x00, 0x4a, 0x00, 0x00, 0x00, 0x01, 0x62, 0x37, 0, 0, 0, 0, 0x03], 21],
    ['named attribute in collection', [...hdr, 0x01, 0x34, 0x00, 0x01, 0x61, 0x00, 0x00, 0x44, 0x00, 0x01, 0x63, 0x00, 0x00, 0x03], 15],
    ['bad dateTime direction', [...hdr, 0x01, 0x31, 0x00, 0x01, 0x61, 0x00, 0x0b, 7, 0xe9, 1, 1, 0, 0, 0, 0, 0x3f, 0, 0, 0x03], 9],
    ['textWithLanguage overrun', [...hdr, 0x01, 0x35, 0x00, 0x01, 0x61, 0x00, 0x06, 0x00, 0x02, 0x64, 0x65, 0x00, 0x09, 0x03], 9],
  ];
  for (const [label, bytes, offset] of cases) t.equal(corruptAt(() => decodeMessage(Buffer.from(bytes))), offset, label);
  // 17 nested collections exceed the default depth of 16.
  const deep: number[] = [...hdr, 0x04, 0x34, 0x00, 0x01, 0x61, 0x00, 0x00];
  for (let i = 0; i < 17; i++) deep.push(0x4a, 0, 0, 0, 1, 0x6d, 0x34, 0, 0, 0, 0);
  t.match(corruptAt(() => decodeMessage(Buffer.from(deep))), Number);
  t.throws(() => decodeMessage(Buffer.from(deep)), { message: /nested deeper than 16/ });
});

t.test('lenient where printers are sloppy', async (t) => {
  const hdr = [0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01];
  // out-of-band with a value, boolean 0xff, reserved group 0x0b, data after the end tag
  const msg = decodeMessage(Buffer.from([...hdr, 0x0b, 0x13, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00, 0x22, 0x00, 0x01, 0x62, 0x00, 0x01, 0xff, 0x03, 0x25, 0x50]));
  t.equal(msg.groups[0]?.name, undefined);
  t.equal(msg.groups[0]?.tag, 0x0b);
  t.same(msg.groups[0]?.attributes, [attribute('a', outOfBand('no-value')), attribute('b', { type: 'boolean', value: true })]);
  t.same([...msg.data], [0x25, 0x50]);
  // invalid UTF-8 in a text value becomes U+FFFD instead of failing the answer
  const bad = decodeMessage(Buffer.from([...hdr, 0x04, 0x41, 0x00, 0x01, 0x61, 0x00, 0x02, 0xc3, 0x28, 0x03]));
  t.equal(strings(groupAttributes(bad, 'printer'), 'a')[0], '\ufffd(');
});

t.test('encoder refuses what a printer would reject, naming only the attribute', async (t) => {
  const one = (attrs: ReturnType<typeof attribute>[]): IppMessage => ({ version: { major: 2, minor: 0 }, code: 2, requestId: 1, groups: [{ name: 'job', tag: 2, attributes: attrs }] });
  t.throws(() => encodeMessage(one([attribute('job-name', name('x'.repeat(256)))])), { code: 'InvalidInput', message: /job-name.*0\.\.255/ });
  t.throws(() => encodeMessage(one([attribute('copies', integer(2 ** 31))])), { code: 'InvalidInput', message: /copies/ });
  t.throws(() => encodeMessage(one([attribute('copies')])), { code: 'InvalidInput', message: /copies has no value/ });
  t.throws(() => encodeMessage(one([attribute('r', rangeOfInteger(5, 1))])), { code: 'InvalidInput' });
  t.throws(() => encodeMessage(one([attribute('m', collection({ 'media-type': [] }))])), { code: 'InvalidInput', message: /m\.media-type has no value/ });
  t.throws(() => encodeMessage(one([attribute('o', { type: 'opaque', tag: 0x34, bytes: new Uint8Array() })])), { code: 'InvalidInput' });
  t.throws(() => encodeMessage({ ...one([]), requestId: 0 }), { code: 'InvalidInput', message: /request-id/ });
  t.throws(() => encodeMessage({ ...one([]), groups: [{ name: undefined, tag: 3, attributes: [] }] }), { code: 'InvalidInput' });
});

t.test('request builders', async (t) => {
  const pj = decodeMessage(encodeMessage(printJobRequest(target, 5, { jobName: 'Ä'.repeat(200), documentFormat: 'application/pdf', fidelity: true, jobAttributes: [attribute('copies', integer(2))] })));
  t.equal(pj.code, Operation.PrintJob);
  const op = groupAttributes(pj, 'operation');
  t.same(op.map((a) => a.name), ['attributes-charset', 'attributes-natural-language', 'printer-uri', 'requesting-user-name', 'job-name', 'ipp-attribute-fidelity', 'document-format']);
  t.equal(Buffer.byteLength(strings(op, 'job-name')[0] ?? ''), 254, 'cut to 255 octets on a character boundary');
  t.same(groupAttributes(pj, 'job'), [attribute('copies', integer(2))]);
  const gj = decodeMessage(encodeMessage(getJobAttributesRequest(target, 6, 12)));
  t.equal(gj.code, Operation.GetJobAttributes);
  t.equal(firstInteger(groupAttributes(gj, 'operation'), 'job-id'), 12);
  t.equal(truncateName('abc'), 'abc');
  t.equal(truncateName('aé', 2), 'a');
  t.equal(truncateName('€€', 5), '€');
});
