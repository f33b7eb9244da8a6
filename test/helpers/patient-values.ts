import fs from 'node:fs';
import path from 'node:path';
import { fixture } from './fixtures.js';

/** GDT fields that carry personal data (patient no., names, title, birth date, address). */
const GDT_PERSONAL_FIELDS = new Set(['3000', '3101', '3102', '3103', '3104', '3105', '3106', '3107']);
const VSD_PERSONAL_TAGS = ['Versicherten_ID', 'Geburtsdatum', 'Vorname', 'Nachname', 'Titel', 'Strasse', 'Hausnummer', 'Postleitzahl', 'Ort'];

/**
 * Every personal value in the shared fixtures (GDT files and eGK samples), for tests that must fail
 * when any of them reaches a log line, an error message or a diagnostics bundle. Values shorter
 * than 4 characters (sex codes, house numbers) are skipped: they occur in any text by chance.
 */
export function fixturePatientValues(): string[] {
  const values = new Set<string>();
  const gdtDir = fixture('gdt-public');
  for (const name of fs.readdirSync(gdtDir)) {
    if (name.startsWith('LICENSE') || name.endsWith('.md')) continue;
    const text = fs.readFileSync(path.join(gdtDir, name), 'latin1');
    for (const line of text.split(/\r\n|\n|\r/)) {
      const field = line.slice(3, 7);
      const content = line.slice(7).trim();
      if (GDT_PERSONAL_FIELDS.has(field) && content.length >= 4) values.add(content);
    }
  }
  const egkDir = fixture('egk-public');
  for (const name of fs.readdirSync(egkDir).filter((n) => n.endsWith('.xml'))) {
    const xml = fs.readFileSync(path.join(egkDir, name), 'latin1');
    for (const tag of VSD_PERSONAL_TAGS) {
      for (const m of xml.matchAll(new RegExp(`<(?:\\w+:)?${tag}>([^<]+)<`, 'g'))) {
        const v = (m[1] ?? '').trim();
        if (v.length >= 4) values.add(v);
      }
    }
  }
  return [...values];
}

/** The personal values that occur in `text`, case-insensitively. */
export function leakedValues(text: string, values: readonly string[]): string[] {
  const haystack = text.toLowerCase();
  return values.filter((v) => haystack.includes(v.toLowerCase()));
}
