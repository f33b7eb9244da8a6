import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { splitReaderName, stableReaderKey, readerMatches, generatedTerminalId } from '../../agent/cards/reader-name.js';
import { cardsConfig, cardsConfigProblems, CardsConfigSchema } from '../../agent/cards/cards-config.js';
import { identifyReader, terminalViews } from '../../agent/cards/terminal-registry.js';

const CYBERJACK = 'REINER SCT cyberJack RFID standard (1234567890) 00 00';

t.test('reader names: the index changes on re-plug, the slot and serial do not', async (t) => {
  t.same(splitReaderName(CYBERJACK), { base: 'REINER SCT cyberJack RFID standard (1234567890)', index: '00', slot: '00' });
  t.same(splitReaderName('Gemalto PC Twin Reader'), { base: 'Gemalto PC Twin Reader' });
  t.equal(stableReaderKey('Virtual PCD 00 01'), 'Virtual PCD slot 01');
  t.ok(readerMatches(CYBERJACK, CYBERJACK));
  t.ok(readerMatches('REINER SCT cyberJack RFID standard (1234567890)', CYBERJACK.replace(' 00 00', ' 01 00')), 'without suffix: slot 00 after re-plug as reader 01');
  t.ok(readerMatches('REINER SCT cyberJack RFID standard (1234567890) 00 00', CYBERJACK.replace(' 00 00', ' 02 00')), 'the configured index is ignored');
  t.notOk(readerMatches('REINER SCT cyberJack RFID standard (1234567890)', CYBERJACK.replace(' 00 00', ' 00 01')), 'another slot is another terminal');
  t.notOk(readerMatches('REINER SCT cyberJack RFID standard (9999999999)', CYBERJACK), 'another serial is another reader');
  t.ok(readerMatches('Virtual PCD slot 01', 'Virtual PCD 00 01'));
  t.notOk(readerMatches('', 'Virtual PCD 00 01'));
  t.equal(generatedTerminalId(CYBERJACK), 'pcsc-reiner-sct-cyberjack-rfid-s-f317ee');
  t.not(generatedTerminalId(CYBERJACK.replace('1234567890', '1234567891')), generatedTerminalId(CYBERJACK), 'serials keep ids apart');
  t.equal(generatedTerminalId('Virtual PCD 00 01'), 'pcsc-virtual-pcd-slot-01');
  t.equal(generatedTerminalId('°°°'), 'pcsc-reader');
  t.ok(/^([a-z0-9][a-z0-9-]{0,39})?$/.test(generatedTerminalId(CYBERJACK)), 'a generated id is a valid configured id');
});

t.test('config section: defaults for everything; cross-field problems', async (t) => {
  const c = cardsConfig();
  t.same(c, {
    terminals: [],
    readUnassigned: true,
    apduTimeoutMs: 5_000,
    retries: 2,
    removalGraceMs: 1_500,
    reconnectBaseMs: 250,
    reconnectMaxMs: 2_000,
    usbHints: true,
  });
  t.ok(Value.Check(CardsConfigSchema, c));
  const one = cardsConfig({ terminals: [{ readerName: 'X' }] });
  t.same(one.terminals[0], { id: '', name: '', location: '', workstationIds: [], source: 'pcsc', readerName: 'X', apduMode: 'short' });
  t.notOk(Value.Check(CardsConfigSchema, { ...c, terminals: [{ ...one.terminals[0], id: 'Empfang!' }] }), 'ids are slugs');
  t.same(
    cardsConfigProblems(cardsConfig({ terminals: [{ id: 'a', readerName: 'X' }, { id: 'a', readerName: 'Y' }, { id: 'b' }], reconnectBaseMs: 5_000, reconnectMaxMs: 1_000 })),
    ['/terminals/1/id: same id as /terminals/0', '/terminals/2/readerName: required for a PC/SC terminal', '/reconnectMaxMs: smaller than reconnectBaseMs'],
  );
});

t.test('identity and the terminal list: configured first, unknown readers offered for naming', async (t) => {
  const config = cardsConfig({
    terminals: [
      { id: 'empfang', name: 'Empfang', location: 'EG', workstationIds: ['d1'], readerName: 'REINER SCT cyberJack RFID standard (1234567890)', apduMode: 'auto' },
      { id: 'mobil', name: 'Hausbesuch', source: 'mobile' },
      { name: 'Labor', readerName: 'Virtual PCD slot 01' },
    ],
    readUnassigned: false,
  });
  t.same(identifyReader(CYBERJACK.replace(' 00 00', ' 01 00'), config), { id: 'empfang', name: 'Empfang', location: 'EG', workstationIds: ['d1'], source: 'pcsc', configured: true, apduMode: 'auto', read: true });
  t.match(identifyReader('Virtual PCD 00 01', config), { id: 'pcsc-virtual-pcd-slot-01', name: 'Labor', configured: true });
  t.same(identifyReader('Other Reader 00 00', config), { id: 'pcsc-other-reader-slot-00', name: 'Other Reader slot 00', location: '', workstationIds: [], source: 'pcsc', configured: false, apduMode: 'short', read: false });

  const views = terminalViews(config, [
    { readerName: 'Other Reader 00 00', cardPresent: true, card: { insertionId: 'i1', cardType: 'egk', state: 'read', insertedAt: '2026-01-01T00:00:00.000Z' } },
    { readerName: 'Virtual PCD 00 01', cardPresent: false },
  ]);
  t.same(
    views.map((v) => [v.id, v.source, v.configured, v.connected, v.readerName, v.cardPresent, v.suggestedReaderName, v.card?.state]),
    [
      ['empfang', 'pcsc', true, false, 'REINER SCT cyberJack RFID standard (1234567890)', false, undefined, undefined],
      ['mobil', 'mobile', true, false, '', false, undefined, undefined],
      ['pcsc-virtual-pcd-slot-01', 'pcsc', true, true, 'Virtual PCD 00 01', false, undefined, undefined],
      ['pcsc-other-reader-slot-00', 'pcsc', false, true, 'Other Reader 00 00', true, 'Other Reader slot 00', 'read'],
    ],
  );
});
