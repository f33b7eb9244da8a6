/**
 * The insured person and coverage as read from a card — one model for every source: PC/SC terminals
 * now, the TI-Konnektor's ReadVSD and mobile terminals' offline records later. Consumers (the cloud
 * calendar) see the same shape whatever produced it; `source` says where it came from.
 */

/** Who produced a card event. */
export type CardSource = 'pcsc' | 'konnektor' | 'mobile';

/** eGK (processor card with VSD) or the old memory card (KVK and the PKV insurers' card alike). */
export type CardType = 'egk' | 'kvk';

/** Which data layout the record was decoded from. */
export type VsdSchema = '5.1' | '5.2' | 'pkv-1.0' | 'kvk';

/** Card generation of an eGK from EF.Version2 (G1 cards have no such file). */
export type CardGeneration = 'G1' | 'G2' | 'G2.1' | 'unknown';

export type Sex = 'male' | 'female' | 'diverse' | 'undetermined';

export interface PostalAddress {
  street?: string;
  houseNumber?: string;
  postcode?: string;
  city?: string;
  /** Country code as on the card (`D` for Germany; VSD "Wohnsitzlaendercode"). */
  country: string;
  addition?: string;
}

export interface PostBoxAddress {
  postBox: string;
  postcode?: string;
  city: string;
  country: string;
}

export interface InsuredPerson {
  /** eGK: the 10-character Versicherten-ID; KVK: the Krankenversichertennummer as printed. */
  insuranceNumber: string;
  firstName: string;
  lastName: string;
  /** "Vorsatzwort" (von, van der …). */
  namePrefix?: string;
  /** "Namenszusatz" (Freiherr …). */
  nameSuffix?: string;
  title?: string;
  /** ISO date; `YYYY-MM` or `YYYY` when the card leaves day or month unknown (`00`). */
  birthDate: string;
  sex?: Sex;
  /** PKV memory card: the person's number within the insurance contract (tag 83). */
  personNumber?: string;
  address?: PostalAddress;
  postBox?: PostBoxAddress;
}

export interface Payer {
  /** Institutionskennzeichen (9 digits) or, on old KVKs, the 7-digit Kassennummer. */
  id: string;
  name: string;
  countryCode?: string;
}

export type InsuredType = 'member' | 'family' | 'pensioner' | 'other';

export interface Coverage {
  kind: 'gkv' | 'pkv';
  payer: Payer;
  /** The payer that bills, when it differs ("AbrechnenderKostentraeger"). */
  billingPayer?: Payer;
  /** ISO dates of the coverage ("Versicherungsschutz"); a KVK carries neither. */
  start?: string;
  end?: string;
  insuredType?: InsuredType;
  /** The code as on the card (1, 3, 5, …), kept next to the interpretation. */
  insuredTypeCode?: string;
  /** Wohnortprinzip region (2 digits). */
  wop?: string;
  /** KVK: the full VKNR the WOP was taken from. */
  vknr?: string;
  /** PKV eGK: Tarifart code; v5.1 PKV: PKV_Verbandstarif. */
  pkvTariff?: string;
  /** KVK: last month the card is valid, `YYYY-MM`. */
  cardValidUntil?: string;
}

export type Validity = 'valid' | 'expired' | 'not-yet-valid' | 'unknown';

export interface ReadStatus {
  validity: Validity;
  /** eGK EF.StatusVD: an update of the VSD was started and not finished — data may be inconsistent. */
  vsdUpdatePending?: boolean;
  /** eGK EF.StatusVD: when the VSD were last written, ISO date-time (card's local time). */
  vsdWrittenAt?: string;
  /** A PC/SC read is offline; the Konnektor's ReadVSD reports its online check here. */
  onlineCheck: 'not-performed' | 'performed' | 'failed';
}

export interface CardWarning {
  code: string;
  /** Plain text naming the field or check — never a value from the card. */
  message: string;
}

/** Facts about the card itself; no personal data. */
export interface CardFacts {
  schema: VsdSchema;
  generation?: CardGeneration;
  /** Object system version from EF.Version2 (`4.5.2`). */
  objectSystemVersion?: string;
  /** EF.StatusVD schema version (`5.2.0`). */
  vsdVersion?: string;
}

/** Everything one successful read produced, before it is wrapped for events. */
export interface CardRecord {
  source: CardSource;
  cardType: CardType;
  card: CardFacts;
  person: InsuredPerson;
  coverage: Coverage;
  status: ReadStatus;
  warnings: CardWarning[];
}

/** C0 controls and DEL never belong in card text; they would break GDT files and displays downstream. */
export function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const INSURED_TYPES: Readonly<Record<string, InsuredType>> = { '1': 'member', '3': 'family', '5': 'pensioner' };

export function insuredTypeOf(code: string): InsuredType {
  return INSURED_TYPES[code] ?? 'other';
}

/**
 * Check digit of the 10-character Versicherten-ID (§ 290 SGB V, KVNR-Richtlinie): the letter becomes
 * its two-digit alphabet position, the ten digits are weighted 1-2-1-2…, products are reduced to
 * their digit sum, and the last digit of the total is the check digit.
 */
export function insurantIdCheckDigit(id: string): number | undefined {
  if (!/^[A-Z][0-9]{8}/.test(id)) return undefined;
  const digits = (String(id.charCodeAt(0) - 64).padStart(2, '0') + id.slice(1, 9)).split('').map(Number);
  let sum = 0;
  digits.forEach((d, i) => {
    const p = d * (i % 2 === 0 ? 1 : 2);
    sum += p > 9 ? p - 9 : p;
  });
  return sum % 10;
}

export function isValidInsurantId(id: string): boolean {
  return /^[A-Z][0-9]{9}$/.test(id) && insurantIdCheckDigit(id) === Number(id[9]);
}

/** `YYYYMMDD` with `00` for unknown month or day → `YYYY-MM-DD`, `YYYY-MM` or `YYYY`. */
export function isoFromCompactDate(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const y = m[1] ?? '';
  const mo = m[2] ?? '';
  const d = m[3] ?? '';
  const month = Number(mo);
  const day = Number(d);
  if (month > 12 || day > 31) return undefined;
  if (month === 0) return day === 0 ? y : undefined;
  if (day === 0) return `${y}-${mo}`;
  if (!isRealDate(Number(y), month, day)) return undefined;
  return `${y}-${mo}-${d}`;
}

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Today as `YYYY-MM-DD` in the box's local time zone (coverage dates are calendar days). */
export function localIsoDate(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Whether the coverage holds on `today` (ISO date). Partial dates compare by their known prefix. */
export function validityOn(coverage: Coverage, today: string): Validity {
  if (coverage.cardValidUntil !== undefined) {
    return coverage.cardValidUntil < today.slice(0, 7) ? 'expired' : 'valid';
  }
  if (coverage.start === undefined && coverage.end === undefined) return 'unknown';
  if (coverage.start !== undefined && coverage.start > today.slice(0, coverage.start.length)) return 'not-yet-valid';
  if (coverage.end !== undefined && coverage.end < today.slice(0, coverage.end.length)) return 'expired';
  return 'valid';
}
