import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { invalidInput } from '../../core/errors.js';

/**
 * The JSON description of an invented person that virtual cards are built from (`praxisbox sim card
 * --data FILE.json`). Every field has a default, so `{}` is a complete, valid person; all defaults are
 * invented (no real person, no real insurer).
 */
const IsoDate = (def: string, description: string) => Type.String({ default: def, pattern: '^\\d{4}-\\d{2}-\\d{2}$', description });

export const SimPersonSchema = Type.Object(
  {
    insuranceNumber: Type.String({
      default: 'T197412356',
      pattern: '^[A-Z][0-9]{9}$',
      description: 'Versicherten-ID (eGK) — letter, 8 digits, check digit; KVK cards print it as well',
    }),
    firstName: Type.String({ default: 'Lotte', minLength: 1, maxLength: 45 }),
    lastName: Type.String({ default: 'Beispielfrau', minLength: 1, maxLength: 45 }),
    title: Type.Optional(Type.String({ maxLength: 20 })),
    namePrefix: Type.Optional(Type.String({ maxLength: 20, description: 'Vorsatzwort, e.g. "von"' })),
    nameSuffix: Type.Optional(Type.String({ maxLength: 20, description: 'Namenszusatz, e.g. "Freifrau"' })),
    birthDate: Type.String({ default: '1974-12-03', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD; 00 for unknown month/day' }),
    sex: Type.Union([Type.Literal('M'), Type.Literal('W'), Type.Literal('D'), Type.Literal('X')], { default: 'W' }),
    street: Type.String({ default: 'Probeweg', maxLength: 46 }),
    houseNumber: Type.String({ default: '7a', maxLength: 9 }),
    postcode: Type.String({ default: '99999', maxLength: 10 }),
    city: Type.String({ default: 'Musterstadt', maxLength: 40 }),
    country: Type.String({ default: 'D', maxLength: 3 }),
    payerId: Type.String({ default: '100000017', pattern: '^[0-9]{9}$', description: 'Institutionskennzeichen of the (invented) insurer' }),
    payerName: Type.String({ default: 'Erfundene Krankenkasse', minLength: 1, maxLength: 45 }),
    coverageStart: IsoDate('2020-01-01', 'Versicherungsschutz Beginn'),
    coverageEnd: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    insuredType: Type.String({ default: '1', pattern: '^[0-9]$', description: '1 member, 3 family, 5 pensioner' }),
    wop: Type.String({ default: '38', pattern: '^[0-9]{2}$' }),
    pkvTariff: Type.String({ default: '01', pattern: '^[0-9]{2}$', description: 'PKV eGK Tarifart' }),
    kvkValidUntil: Type.String({ default: '2031-12', pattern: '^\\d{4}-\\d{2}$', description: 'KVK: last valid month' }),
    vsdUpdatePending: Type.Boolean({ default: false, description: 'eGK: EF.StatusVD reports an unfinished update' }),
  },
  { additionalProperties: false },
);

export type SimPerson = Static<typeof SimPersonSchema>;

/** Applies defaults and validates; errors name the field, not the value. */
export function simPerson(input: unknown = {}): SimPerson {
  const value = Value.Default(SimPersonSchema, Value.Clone(input ?? {}));
  const problems = [...Value.Errors(SimPersonSchema, value)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
  if (problems.length > 0) throw invalidInput(`invalid person description: ${problems.join('; ')}`);
  return Value.Decode(SimPersonSchema, value);
}

/** YYYY-MM-DD → YYYYMMDD as the VSD writes it. */
export const compactDate = (iso: string): string => iso.replace(/-/g, '');
