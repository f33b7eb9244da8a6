import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { de, deReasons } from '../../web-ui/src/i18n/de.js';
import { en } from '../../web-ui/src/i18n/en.js';
import { fill, translateReason } from '../../web-ui/src/i18n/translate.js';
import { problemsFromText } from '../../web-ui/src/api.js';
import { repoRoot } from '../helpers/fixtures.js';

t.test('both dictionaries have the same keys and the same placeholders', async (t) => {
  t.same(Object.keys(en).sort(), Object.keys(de).sort());
  for (const key of Object.keys(de) as Array<keyof typeof de>) {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    t.same(names(en[key]), names(de[key]), `placeholders of ${key}`);
  }
  t.equal(fill(de['login.locked'], { time: '5 min' }), 'Zu viele Fehlversuche. Bitte in 5 min erneut versuchen.');
});

t.test('the agent health reasons read German; unknown ones stay as they are', async (t) => {
  const cases: Array<[string, string]> = [
    ["card terminal(s) not connected: 'Empfang 1'", "Kartenterminal 'Empfang 1' nicht verbunden"],
    ['cloud not connected (12 s): ECONNREFUSED', 'Cloud seit 12 s nicht verbunden: Verbindung abgelehnt (ECONNREFUSED)'],
    ['cloud not connected (3 s)', 'Cloud seit 3 s nicht verbunden'],
    ['needs setup: no configuration saved yet', 'Noch nicht eingerichtet: keine Konfiguration gespeichert'],
    ['outbox full (300 of 200 bytes undelivered): new events are refused', 'Ausgangsspeicher voll (300 von 200 Bytes nicht zugestellt): neue Ereignisse werden abgewiesen'],
    ['oldest undelivered event is 80 h old (limit 72 h)', 'Ältestes nicht zugestelltes Ereignis ist 80 h alt (Grenze 72 h)'],
    ['card terminals are not monitored', 'Kartenterminals werden nicht überwacht'],
    ['GDT results wait for room in the outbox', 'GDT-Befunde warten auf Platz im Ausgangsspeicher'],
    ['Expected string length greater or equal to 10', 'Mindestens 10 Zeichen'],
    ["Expected string to match '^[a-z0-9][a-z0-9-]{0,39}$' pattern", 'Ungültiges Format'],
    ["Expected string to match '^[a-z0-9][a-z0-9-]{0,39}$'", 'Ungültiges Format'],
    ['must be one of "fixed", "incrementing"', 'Erlaubt: "fixed", "incrementing"'],
    ['cards is unavailable: DeviceUnavailable: PC/SC service not available (no-service)', 'Nicht verfügbar: Der Kartenleser-Dienst (PC/SC) ist nicht erreichbar (no-service)'],
    ['cloud not connected (4 s): broker refused the connection (code 135, not authorized)', 'Cloud seit 4 s nicht verbunden: Der Broker hat die Verbindung abgelehnt (Code 135, nicht berechtigt)'],
    ['printer empfang: jam', 'Drucker empfang: Papierstau'],
    ['printer empfang is not reachable and has jobs waiting', 'Drucker empfang nicht erreichbar, Aufträge warten'],
    ['device ekg: GDT results wait for room in the outbox', 'Gerät ekg: GDT-Befunde warten auf Platz im Ausgangsspeicher'],
  ];
  for (const [english, german] of cases) t.equal(translateReason(english, deReasons), german, english);
  t.equal(translateReason('something new happened', deReasons), 'something new happened', 'fallback: the original');
});

t.test('field problems from error texts (config and argument errors)', async (t) => {
  t.same(problemsFromText("invalid configuration:\n/printing/printers/1/uri: Expected string to match '^ipps?://' pattern\n/printing/printers/1/id: Expected required property"), [
    { path: '/printing/printers/1/uri', message: "Expected string to match '^ipps?://' pattern" },
    { path: '/printing/printers/1/id', message: 'Expected required property' },
  ]);
  t.same(problemsFromText('invalid arguments for broker.users.set: /password: Expected string length greater or equal to 10; /name: Expected string'), [
    { path: '/password', message: 'Expected string length greater or equal to 10' },
    { path: '/name', message: 'Expected string' },
  ]);
  t.same(problemsFromText('no printer configured for document type au'), []);
});

t.test('the built pages have no inline script or style (the CSP forbids them)', async (t) => {
  const dist = path.join(repoRoot, 'web-ui', 'dist');
  const html = await fs.readFile(path.join(dist, 'index.html'), 'utf8');
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
  t.notMatch(html, /<style|\sstyle=/, 'no style element or attribute');
  const js = await fs.readFile(path.join(dist, 'app.js'), 'utf8');
  t.notMatch(js, /sourceMappingURL/, 'no source map reference');
  t.ok((await fs.stat(path.join(dist, 'app.css'))).size > 1000, 'the stylesheet is built');
});
