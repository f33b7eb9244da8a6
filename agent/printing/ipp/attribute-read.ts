import type { GroupName } from './constants.js';
import type { IppAttribute, IppDateTime, IppMessage, IppValue } from './ipp-value.js';

/**
 * Typed reads from decoded attributes. Each reader ignores values of a syntax it does not ask for,
 * because printers mix syntaxes in one attribute (keyword | name, integer | out-of-band) and a
 * reader that threw on the unexpected half would make one odd attribute fail a whole response.
 */

export function groupAttributes(message: IppMessage, group: GroupName): IppAttribute[] {
  return message.groups.filter((g) => g.name === group).flatMap((g) => g.attributes);
}

export function find(attributes: readonly IppAttribute[], attrName: string): IppAttribute | undefined {
  return attributes.find((a) => a.name === attrName);
}

function valuesOf(attributes: readonly IppAttribute[], attrName: string): IppValue[] {
  return find(attributes, attrName)?.values ?? [];
}

/** Every value of a string-like syntax (keyword, name, text, uri, mimeMediaType, … with or without language). */
export function strings(attributes: readonly IppAttribute[], attrName: string): string[] {
  const out: string[] = [];
  for (const v of valuesOf(attributes, attrName)) {
    switch (v.type) {
      case 'textWithoutLanguage':
      case 'nameWithoutLanguage':
      case 'textWithLanguage':
      case 'nameWithLanguage':
      case 'keyword':
      case 'uri':
      case 'uriScheme':
      case 'charset':
      case 'naturalLanguage':
      case 'mimeMediaType':
        out.push(v.value);
        break;
      default:
        break;
    }
  }
  return out;
}

export function firstString(attributes: readonly IppAttribute[], attrName: string): string | undefined {
  return strings(attributes, attrName)[0];
}

/** Integer and enum values (RFC 8011 uses both for counts and states). */
export function integers(attributes: readonly IppAttribute[], attrName: string): number[] {
  const out: number[] = [];
  for (const v of valuesOf(attributes, attrName)) if (v.type === 'integer' || v.type === 'enum') out.push(v.value);
  return out;
}

export function firstInteger(attributes: readonly IppAttribute[], attrName: string): number | undefined {
  return integers(attributes, attrName)[0];
}

export function firstBoolean(attributes: readonly IppAttribute[], attrName: string): boolean | undefined {
  for (const v of valuesOf(attributes, attrName)) if (v.type === 'boolean') return v.value;
  return undefined;
}

export function firstRange(attributes: readonly IppAttribute[], attrName: string): { lower: number; upper: number } | undefined {
  for (const v of valuesOf(attributes, attrName)) if (v.type === 'rangeOfInteger') return { lower: v.lower, upper: v.upper };
  return undefined;
}

/** The member lists of every collection value of the attribute. */
export function collections(attributes: readonly IppAttribute[], attrName: string): IppAttribute[][] {
  const out: IppAttribute[][] = [];
  for (const v of valuesOf(attributes, attrName)) if (v.type === 'collection') out.push(v.members);
  return out;
}

/** Milliseconds since the epoch of an RFC 2579 DateAndTime (deci-seconds kept). */
export function dateTimeToDate(d: IppDateTime): Date {
  const offsetMinutes = (d.utcDirection === '-' ? -1 : 1) * (d.utcHours * 60 + d.utcMinutes);
  const utc = Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minutes, d.seconds, d.deciSeconds * 100);
  return new Date(utc - offsetMinutes * 60_000);
}

/** An IPP dateTime in UTC for a JS date. */
export function dateToDateTime(date: Date): IppDateTime {
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minutes: date.getUTCMinutes(),
    seconds: date.getUTCSeconds(),
    deciSeconds: Math.floor(date.getUTCMilliseconds() / 100),
    utcDirection: '+',
    utcHours: 0,
    utcMinutes: 0,
  };
}
