import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { encodeLatin9, insuranceDataXml, personalDataXml, type SimSchema } from '../../agent/cards/sim/vsd-xml-builder.js';
import { simPerson } from '../../agent/cards/sim/sim-person.js';
import { IsoCard } from '../../agent/cards/sim/iso-card.js';
import { virtualCard, GOOD_CARDS, BROKEN_CARDS, isVirtualCardType } from '../../agent/cards/sim/virtual-cards.js';
import { memoryChannel } from '../../agent/cards/sim/memory-channel.js';
import { isValidInsurantId } from '../../agent/cards/insured-person.js';
import { parseResponse } from '../../agent/cards/apdu.js';

const run = promisify(execFile);
const { dir, cleanup } = await tempDir();
t.teardown(cleanup);

const person = simPerson({ firstName: 'Zoë Ânne', lastName: 'Œlbaum & Söhne <GbR>', title: 'Dr.', namePrefix: 'von', nameSuffix: 'Gräfin', coverageEnd: '2030-06-30' });

async function validate(xml: string, schemaFile: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, encodeLatin9(xml));
  const r = await run('xmllint', ['--noout', '--schema', fixture('egk-public', schemaFile), file]).catch((err: { stderr: string }) => ({ stderr: err.stderr }));
  return r.stderr.trim();
}

t.test('the virtual cards carry schema-valid VSD (xmllint against the gematik XSDs)', async (t) => {
  const cases: Array<[SimSchema, string]> = [
    ['5.2', 'Schema_VSD.xsd'],
    ['pkv-1.0', 'Schema_VSD_PKV.xsd'],
  ];
  for (const [schema, xsd] of cases) {
    for (const [kind, xml] of [
      ['pd', personalDataXml(person, schema)],
      ['vd', insuranceDataXml(person, schema)],
    ] as const) {
      const name = `${schema}-${kind}.xml`;
      t.equal(await validate(xml, xsd, name), `${path.join(dir, name)} validates`, `${schema} ${kind}`);
    }
  }
});

t.test('ISO-8859-15 encoding of the card XML', async (t) => {
  t.same([...encodeLatin9('€Šß')], [0xa4, 0xa6, 0xdf]);
  t.throws(() => encodeLatin9('¤'), { message: 'character U+00A4 is not in ISO-8859-15' }, 'Latin-1 ¤ was replaced by € in Latin-9');
  t.throws(() => encodeLatin9('漢'), RangeError);
});

t.test('person descriptions: defaults are a valid invented person, bad input names the field only', async (t) => {
  const p = simPerson();
  t.ok(isValidInsurantId(p.insuranceNumber), 'the default Versicherten-ID has a valid check digit');
  t.match(p, { firstName: 'Lotte', lastName: 'Beispielfrau', payerId: '100000017', sex: 'W' });
  t.throws(() => simPerson({ birthDate: '3.4.1970' }), { code: 'InvalidInput', message: /^invalid person description: \/birthDate: / });
  t.throws(() => simPerson({ extra: 1 }), { code: 'InvalidInput' });
});

t.test('the virtual card answers like a card', async (t) => {
  const card = virtualCard('egk', { extendedLength: false });
  const ask = (...bytes: number[]): string => {
    const r = card.process(Uint8Array.from(bytes));
    if (r.kind !== 'response') return 'removed';
    return parseResponse(r.bytes).sw.toString(16);
  };
  t.equal(ask(0x00, 0xb0, 0x00, 0x00, 0x10), '6986', 'no current EF');
  t.equal(ask(0x80, 0xb0, 0x00, 0x00, 0x10), '6e00', 'class not supported');
  t.equal(ask(0x00, 0xca, 0x00, 0x00, 0x00), '6d00', 'instruction not supported');
  t.equal(ask(0x00, 0xa4, 0x04, 0x0c, 0x06, 0xd2, 0x76, 0x00, 0x00, 0x01, 0x02), '9000', 'SELECT HCA');
  t.equal(ask(0x00, 0xa4, 0x02, 0x0c, 0x02, 0xd0, 0x09), '6a82', 'no such EF');
  t.equal(ask(0x00, 0xa4, 0x02, 0x0c, 0x02, 0xd0, 0x01), '9000', 'SELECT EF.PD');
  t.equal(ask(0x00, 0xb0, 0x00, 0x00, 0x00, 0x04, 0x00), '6700', 'extended Le refused by this card');
  t.equal(ask(0x00, 0xb0, 0x7f, 0x00, 0x10), '6b00', 'offset beyond the file');
  t.equal(ask(0x00, 0xb0, 0x03, 0x40, 0x40), '6282', 'end of file before Le');
  t.equal(ask(0x00, 0xa4, 0x02, 0x0c, 0x02, 0x3f, 0x00), '9000', 'back to the MF by FID');
  t.equal(ask(0x00, 0xa4, 0x04, 0x0c, 0x02, 0xd2), '6700', 'SELECT body shorter than Lc');
  t.equal(ask(0x00), '6700');
  t.equal(card.log.length, 12);

  const pulled = new IsoCard(virtualCard('kvk').image, [{ at: 1, remove: true }]);
  const ch = memoryChannel(pulled);
  await t.rejects(ch.transmit(Uint8Array.from([0, 0xb0, 0, 0, 0])), { name: 'SimCardRemovedError' });
  await t.rejects(ch.transmit(Uint8Array.from([0, 0xb0, 0, 0, 0])), { name: 'SimCardRemovedError' }, 'stays removed');
});

t.test('catalogue', async (t) => {
  t.same([...GOOD_CARDS], ['egk', 'egk51', 'pkv', 'kvk', 'kvk-pkv', 'kvk-old-aid']);
  t.ok(BROKEN_CARDS.every(isVirtualCardType));
  t.notOk(isVirtualCardType('egk2'));
});
