import { invalidCardData } from './card-errors.js';
import { child, optionalText, requireChild, requireText, type XmlElement } from './vsd-xml.js';
import {
  hasControlCharacters,
  insuredTypeOf,
  isoFromCompactDate,
  isValidInsurantId,
  type CardWarning,
  type Coverage,
  type InsuredPerson,
  type Payer,
  type PostalAddress,
  type PostBoxAddress,
  type Sex,
  type VsdSchema,
} from './insured-person.js';

/**
 * Maps the VSD XML documents of EF.PD and EF.VD to the model, for the three layouts found on cards:
 * v5.2 (one namespace for all roots), v5.1 (one namespace per root, `UC_*XML`) and the PKV eGK schema
 * v1.0. Each field is checked against the schema's type (pattern, length) so that garbage is
 * refused here rather than shown at reception; messages name the field, never its value.
 */
export const VSD_NAMESPACES = {
  v52: 'http://ws.gematik.de/fa/vsdm/vsd/v5.2',
  pkv10: 'http://ws.gematik.de/fa/vsdm/vsd_pkv/v1.0',
  v51Pd: 'http://ws.gematik.de/fa/vsds/UC_PersoenlicheVersichertendatenXML/v5.1',
  v51Vd: 'http://ws.gematik.de/fa/vsds/UC_AllgemeineVersicherungsdatenXML/v5.1',
} as const;

const PD_ROOT = 'UC_PersoenlicheVersichertendatenXML';
const VD_ROOT = 'UC_AllgemeineVersicherungsdatenXML';

function schemaOf(root: XmlElement, expectedRoot: string, v51Namespace: string, what: string): Exclude<VsdSchema, 'kvk'> {
  if (root.local !== expectedRoot) throw invalidCardData(`${what}: unexpected root element ${root.local.slice(0, 40)}`);
  if (root.uri === VSD_NAMESPACES.v52) return '5.2';
  if (root.uri === VSD_NAMESPACES.pkv10) return 'pkv-1.0';
  if (root.uri === v51Namespace) return '5.1';
  throw invalidCardData(`${what}: unknown VSD namespace`);
}

interface FieldRule {
  max: number;
  min?: number;
  pattern?: RegExp;
}

function checked(value: string | undefined, field: string, rule: FieldRule, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > rule.max || value.length < (rule.min ?? 1)) throw invalidCardData(`${what}: ${field} has an invalid length`);
  if (rule.pattern && !rule.pattern.test(value)) throw invalidCardData(`${what}: ${field} has an invalid format`);
  if (hasControlCharacters(value)) throw invalidCardData(`${what}: ${field} contains control characters`);
  return value;
}

const must = (value: string | undefined, field: string, what: string): string => {
  if (value === undefined) throw invalidCardData(`${what}: ${field} missing`);
  return value;
};

const NAME: FieldRule = { max: 45 };
const NAME_EXT: FieldRule = { max: 20 };
const DATE: FieldRule = { max: 8, min: 8, pattern: /^\d{8}$/ };
const IK: FieldRule = { max: 9, min: 9, pattern: /^\d{9}$/ };

const SEX: Readonly<Record<string, Sex>> = { M: 'male', W: 'female', D: 'diverse', X: 'undetermined' };

function date(value: string | undefined, field: string, what: string): string | undefined {
  const raw = checked(value, field, DATE, what);
  if (raw === undefined) return undefined;
  const iso = isoFromCompactDate(raw);
  if (iso === undefined) throw invalidCardData(`${what}: ${field} is not a calendar date`);
  return iso;
}

function landOf(address: XmlElement, what: string): string {
  const land = requireChild(address, 'Land', what);
  return must(checked(requireText(land, 'Wohnsitzlaendercode', what), 'Wohnsitzlaendercode', { max: 3 }, what), 'Wohnsitzlaendercode', what);
}

function streetAddress(el: XmlElement, what: string): PostalAddress {
  const a: PostalAddress = { country: landOf(el, what) };
  const set = (key: keyof PostalAddress, field: string, rule: FieldRule): void => {
    const v = checked(optionalText(el, field, what), field, rule, what);
    if (v !== undefined) a[key] = v;
  };
  set('street', 'Strasse', { max: 46 });
  set('houseNumber', 'Hausnummer', { max: 9 });
  set('postcode', 'Postleitzahl', { max: 10 });
  set('city', 'Ort', { max: 40 });
  set('addition', 'Anschriftenzusatz', { max: 40 });
  return a;
}

function postBoxAddress(el: XmlElement, what: string): PostBoxAddress {
  const box: PostBoxAddress = {
    postBox: must(checked(requireText(el, 'Postfach', what), 'Postfach', { max: 8 }, what), 'Postfach', what),
    city: must(checked(requireText(el, 'Ort', what), 'Ort', { max: 40 }, what), 'Ort', what),
    country: landOf(el, what),
  };
  const postcode = checked(optionalText(el, 'Postleitzahl', what), 'Postleitzahl', { max: 10 }, what);
  if (postcode !== undefined) box.postcode = postcode;
  return box;
}

export interface ParsedPd {
  schema: Exclude<VsdSchema, 'kvk'>;
  person: InsuredPerson;
  warnings: CardWarning[];
}

/** EF.PD: `UC_PersoenlicheVersichertendatenXML`. */
export function parsePersonalData(root: XmlElement): ParsedPd {
  const what = 'EF.PD';
  const schema = schemaOf(root, PD_ROOT, VSD_NAMESPACES.v51Pd, what);
  const warnings: CardWarning[] = [];
  const versicherter = requireChild(root, 'Versicherter', what);
  const insurantId = must(
    checked(requireText(versicherter, 'Versicherten_ID', what), 'Versicherten_ID', { max: 10, min: 10, pattern: /^[A-Z][0-9]{9}$/ }, what),
    'Versicherten_ID',
    what,
  );
  if (!isValidInsurantId(insurantId)) {
    warnings.push({ code: 'insurance-number-check-digit', message: 'the check digit of the Versicherten-ID does not match' });
  }
  const p = requireChild(versicherter, 'Person', what);
  const person: InsuredPerson = {
    insuranceNumber: insurantId,
    firstName: must(checked(requireText(p, 'Vorname', what), 'Vorname', NAME, what), 'Vorname', what),
    lastName: must(checked(requireText(p, 'Nachname', what), 'Nachname', NAME, what), 'Nachname', what),
    birthDate: must(date(requireText(p, 'Geburtsdatum', what), 'Geburtsdatum', what), 'Geburtsdatum', what),
  };
  const gender = checked(requireText(p, 'Geschlecht', what), 'Geschlecht', { max: 1, pattern: /^[A-Z]$/ }, what);
  const sex = gender === undefined ? undefined : SEX[gender];
  if (sex !== undefined) person.sex = sex;
  else warnings.push({ code: 'unknown-sex-code', message: 'Geschlecht has a code this box does not know' });
  const prefix = checked(optionalText(p, 'Vorsatzwort', what), 'Vorsatzwort', NAME_EXT, what);
  if (prefix !== undefined) person.namePrefix = prefix;
  const suffix = checked(optionalText(p, 'Namenszusatz', what), 'Namenszusatz', NAME_EXT, what);
  if (suffix !== undefined) person.nameSuffix = suffix;
  const title = checked(optionalText(p, 'Titel', what), 'Titel', NAME_EXT, what);
  if (title !== undefined) person.title = title;
  const street = child(p, 'StrassenAdresse', what);
  if (street) person.address = streetAddress(street, what);
  const box = child(p, 'PostfachAdresse', what);
  if (box) person.postBox = postBoxAddress(box, what);
  if (!street && !box) warnings.push({ code: 'no-address', message: 'the card holds no address' });
  return { schema, person, warnings };
}

function payerOf(el: XmlElement, what: string, withCountry: boolean): Payer {
  const payer: Payer = {
    id: must(checked(requireText(el, 'Kostentraegerkennung', what), 'Kostentraegerkennung', IK, what), 'Kostentraegerkennung', what),
    name: must(checked(requireText(el, 'Name', what), 'Kostentraeger Name', NAME, what), 'Kostentraeger Name', what),
  };
  const country = withCountry ? checked(requireText(el, 'Kostentraegerlaendercode', what), 'Kostentraegerlaendercode', { max: 3 }, what) : undefined;
  if (country !== undefined) payer.countryCode = country;
  return payer;
}

export interface ParsedVd {
  schema: Exclude<VsdSchema, 'kvk'>;
  coverage: Coverage;
}

/** EF.VD: `UC_AllgemeineVersicherungsdatenXML`. */
export function parseInsuranceData(root: XmlElement): ParsedVd {
  const what = 'EF.VD';
  const schema = schemaOf(root, VD_ROOT, VSD_NAMESPACES.v51Vd, what);
  const versicherter = requireChild(root, 'Versicherter', what);
  const schutz = requireChild(versicherter, 'Versicherungsschutz', what);
  const kt = requireChild(schutz, 'Kostentraeger', what);
  const zusatz = zusatzinfosOf(requireChild(versicherter, 'Zusatzinfos', what), what);
  const coverage: Coverage = {
    kind: zusatz.local === 'ZusatzinfosPKV' ? 'pkv' : 'gkv',
    payer: payerOf(kt, what, true),
  };
  const billing = child(kt, 'AbrechnenderKostentraeger', what);
  // v5.1 gives the billing payer no country code; v5.2 and PKV inherit the full Kostentraeger type.
  if (billing) coverage.billingPayer = payerOf(billing, what, schema !== '5.1');
  const start = date(requireText(schutz, 'Beginn', what), 'Beginn', what);
  if (start !== undefined) coverage.start = start;
  const end = date(optionalText(schutz, 'Ende', what), 'Ende', what);
  if (end !== undefined) coverage.end = end;

  if (coverage.kind === 'gkv') {
    const code = must(checked(requireText(zusatz, 'Versichertenart', what), 'Versichertenart', { max: 1, pattern: /^[0-9]$/ }, what), 'Versichertenart', what);
    coverage.insuredTypeCode = code;
    coverage.insuredType = insuredTypeOf(code);
    const abrechnung = requireChild(zusatz, 'Zusatzinfos_Abrechnung_GKV', what);
    const wopRaw = schema === '5.1' ? optionalText(abrechnung, 'WOP', what) : requireText(abrechnung, 'WOP', what);
    const wop = checked(wopRaw, 'WOP', { max: 2, min: 2, pattern: /^[0-9]{2}$/ }, what);
    if (wop !== undefined) coverage.wop = wop;
  } else {
    const tariffField = schema === '5.1' ? 'PKV_Verbandstarif' : 'Tarifart';
    const tariff = checked(requireText(zusatz, tariffField, what), tariffField, { max: 2, pattern: /^[0-9]{1,2}$/ }, what);
    if (tariff !== undefined) coverage.pkvTariff = tariff;
  }
  return { schema, coverage };
}

/** ZusatzinfosGKV or ZusatzinfosPKV: exactly one of them (a choice in v5.1, fixed per schema later). */
function zusatzinfosOf(el: XmlElement, what: string): XmlElement {
  const gkv = child(el, 'ZusatzinfosGKV', what);
  const pkv = child(el, 'ZusatzinfosPKV', what);
  if (gkv && pkv) throw invalidCardData(`${what}: both ZusatzinfosGKV and ZusatzinfosPKV present`);
  const found = gkv ?? pkv;
  if (!found) throw invalidCardData(`${what}: neither ZusatzinfosGKV nor ZusatzinfosPKV present`);
  return found;
}
