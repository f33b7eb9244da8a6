import type { GroupName, OutOfBand } from './constants.js';

/** RFC 2579 DateAndTime as IPP carries it (RFC 8010 §3.9: 11 octets), kept field by field so no offset is lost. */
export interface IppDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minutes: number;
  seconds: number;
  deciSeconds: number;
  utcDirection: '+' | '-';
  utcHours: number;
  utcMinutes: number;
}

/** Value syntaxes encoded as a plain string (RFC 8010 §3.9: textWithoutLanguage … mimeMediaType). */
export type StringSyntax =
  | 'textWithoutLanguage'
  | 'nameWithoutLanguage'
  | 'keyword'
  | 'uri'
  | 'uriScheme'
  | 'charset'
  | 'naturalLanguage'
  | 'mimeMediaType';

/** One value of an attribute. An attribute may mix syntaxes (e.g. `media` is keyword | name). */
export type IppValue =
  | { type: 'integer'; value: number }
  | { type: 'enum'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'rangeOfInteger'; lower: number; upper: number }
  | { type: 'resolution'; crossFeed: number; feed: number; units: number }
  | { type: 'dateTime'; value: IppDateTime }
  | { type: 'textWithLanguage' | 'nameWithLanguage'; value: string; language: string }
  | { type: StringSyntax; value: string }
  | { type: 'octetString'; value: Uint8Array }
  | { type: 'collection'; members: IppAttribute[] }
  | { type: 'out-of-band'; value: OutOfBand }
  /** A tag this codec does not interpret (reserved ranges, 0x7F extension): carried as bytes. */
  | { type: 'opaque'; tag: number; bytes: Uint8Array };

export interface IppAttribute {
  name: string;
  /** Never empty; more than one value is a 1setOf. */
  values: IppValue[];
}

export interface IppGroup {
  /** `undefined` for a delimiter tag that RFC 8010 reserves (kept, not rejected, for forward compatibility). */
  name: GroupName | undefined;
  tag: number;
  attributes: IppAttribute[];
}

export interface IppVersion {
  major: number;
  minor: number;
}

/** A decoded or to-be-encoded message: `code` is the operation-id (request) or status-code (response). */
export interface IppMessage {
  version: IppVersion;
  code: number;
  requestId: number;
  groups: IppGroup[];
}

export interface IppResponse extends IppMessage {
  /** Bytes after end-of-attributes-tag (empty for every response of the five operations). */
  data: Uint8Array;
}

// Constructors: short, typed, and the only way request builders create values.
export const integer = (value: number): IppValue => ({ type: 'integer', value });
export const enumValue = (value: number): IppValue => ({ type: 'enum', value });
export const boolean = (value: boolean): IppValue => ({ type: 'boolean', value });
export const keyword = (value: string): IppValue => ({ type: 'keyword', value });
export const uri = (value: string): IppValue => ({ type: 'uri', value });
export const charset = (value: string): IppValue => ({ type: 'charset', value });
export const naturalLanguage = (value: string): IppValue => ({ type: 'naturalLanguage', value });
export const mimeMediaType = (value: string): IppValue => ({ type: 'mimeMediaType', value });
export const name = (value: string): IppValue => ({ type: 'nameWithoutLanguage', value });
export const text = (value: string): IppValue => ({ type: 'textWithoutLanguage', value });
export const rangeOfInteger = (lower: number, upper: number): IppValue => ({ type: 'rangeOfInteger', lower, upper });
export const outOfBand = (value: OutOfBand): IppValue => ({ type: 'out-of-band', value });

/** A collection from an ordered record of member name → value(s). */
export function collection(members: Record<string, IppValue | IppValue[]>): IppValue {
  return {
    type: 'collection',
    members: Object.entries(members).map(([n, v]) => ({ name: n, values: Array.isArray(v) ? v : [v] })),
  };
}

export function attribute(attrName: string, ...values: IppValue[]): IppAttribute {
  return { name: attrName, values };
}
