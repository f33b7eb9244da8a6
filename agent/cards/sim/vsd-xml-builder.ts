import { VSD_NAMESPACES } from '../vsd-document.js';
import { compactDate, type SimPerson } from './sim-person.js';

/**
 * Writes the PD and VD documents of a virtual eGK in the three layouts the reader understands,
 * following the schemas element by element (v5.2 and PKV v1.0 validate against the gematik XSDs in
 * the test fixtures; v5.1 follows the `UC_*XML` schemas of api-telematik 3.0.0).
 */
export type SimSchema = '5.2' | '5.1' | 'pkv-1.0';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

// Latin-9 differs from Latin-1 in eight positions (€ Š š Ž ž Œ œ Ÿ).
const LATIN9_SPECIAL: ReadonlyMap<string, number> = new Map([
  ['€', 0xa4], ['Š', 0xa6], ['š', 0xa8], ['Ž', 0xb4], ['ž', 0xb8], ['Œ', 0xbc], ['œ', 0xbd], ['Ÿ', 0xbe],
]);
const LATIN1_REPLACED = new Set([0xa4, 0xa6, 0xa8, 0xb4, 0xb8, 0xbc, 0xbd, 0xbe]);

/** Encodes text as ISO-8859-15, the charset the card's XML declares; unencodable characters throw. */
export function encodeLatin9(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const special = LATIN9_SPECIAL.get(ch);
    const code = ch.codePointAt(0) ?? 0;
    if (special !== undefined) out.push(special);
    else if (code < 0x100 && !LATIN1_REPLACED.has(code)) out.push(code);
    else throw new RangeError(`character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not in ISO-8859-15`);
  }
  return Uint8Array.from(out);
}

const DECL = '<?xml version="1.0" encoding="ISO-8859-15" standalone="yes"?>\n';

function el(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(value)}</${name}>`;
}

function rootAttrs(schema: SimSchema, v51Namespace: string): string {
  if (schema === '5.2') return `CDM_VERSION="5.2.0" xmlns="${VSD_NAMESPACES.v52}"`;
  if (schema === 'pkv-1.0') return `CDM_VERSION="1.0.0" KTR_TYP="1" xmlns="${VSD_NAMESPACES.pkv10}"`;
  return `CDM_VERSION="5.1.0" xmlns="${v51Namespace}"`;
}

/** The `UC_PersoenlicheVersichertendatenXML` document. */
export function personalDataXml(p: SimPerson, schema: SimSchema): string {
  const address =
    `<StrassenAdresse>${el('Postleitzahl', p.postcode)}${el('Ort', p.city)}` +
    `<Land>${el('Wohnsitzlaendercode', p.country)}</Land>${el('Strasse', p.street)}${el('Hausnummer', p.houseNumber)}</StrassenAdresse>`;
  return (
    DECL +
    `<UC_PersoenlicheVersichertendatenXML ${rootAttrs(schema, VSD_NAMESPACES.v51Pd)}>` +
    `<Versicherter>${el('Versicherten_ID', p.insuranceNumber)}<Person>` +
    el('Geburtsdatum', compactDate(p.birthDate)) +
    el('Vorname', p.firstName) +
    el('Nachname', p.lastName) +
    el('Geschlecht', p.sex) +
    el('Vorsatzwort', p.namePrefix) +
    el('Namenszusatz', p.nameSuffix) +
    el('Titel', p.title) +
    address +
    `</Person></Versicherter></UC_PersoenlicheVersichertendatenXML>\n`
  );
}

/** The `UC_AllgemeineVersicherungsdatenXML` document. */
export function insuranceDataXml(p: SimPerson, schema: SimSchema): string {
  const payer = `<Kostentraeger>${el('Kostentraegerkennung', p.payerId)}${el('Kostentraegerlaendercode', 'D')}${el('Name', p.payerName)}</Kostentraeger>`;
  const schutz = `<Versicherungsschutz>${el('Beginn', compactDate(p.coverageStart))}${el('Ende', p.coverageEnd === undefined ? undefined : compactDate(p.coverageEnd))}${payer}</Versicherungsschutz>`;
  let zusatz: string;
  if (schema === 'pkv-1.0') {
    zusatz = `<ZusatzinfosPKV>${el('Tarifart', p.pkvTariff)}</ZusatzinfosPKV>`;
  } else if (schema === '5.1') {
    zusatz =
      `<ZusatzinfosGKV>${el('Rechtskreis', '1')}${el('Versichertenart', p.insuredType)}${el('Versichertenstatus_RSA', '0')}` +
      `<Zusatzinfos_Abrechnung_GKV>${el('Kostenerstattung_ambulant', '0')}${el('Kostenerstattung_stationaer', '0')}${el('WOP', p.wop)}</Zusatzinfos_Abrechnung_GKV></ZusatzinfosGKV>`;
  } else {
    zusatz = `<ZusatzinfosGKV>${el('Versichertenart', p.insuredType)}<Zusatzinfos_Abrechnung_GKV>${el('WOP', p.wop)}</Zusatzinfos_Abrechnung_GKV></ZusatzinfosGKV>`;
  }
  return (
    DECL +
    `<UC_AllgemeineVersicherungsdatenXML ${rootAttrs(schema, VSD_NAMESPACES.v51Vd)}>` +
    `<Versicherter>${schutz}<Zusatzinfos>${zusatz}</Zusatzinfos></Versicherter></UC_AllgemeineVersicherungsdatenXML>\n`
  );
}
