import { Type, type Static } from '@sinclair/typebox';
import { CODE_BY_CHARSET } from './codec/index.js';
import type { GdtField, GdtRecord } from './codec/index.js';
import type { GdtDeviceConfig } from './gdt-config.js';

/**
 * Orders to devices (pure): the records the box writes (6302 order, 6303 cancel, 6301 master data)
 * and the name of the next order file. The I/O side writes the bytes and waits where told to.
 */
export const OrderPatientSchema = Type.Object(
  {
    number: Type.String({ minLength: 1, maxLength: 60, description: '3000: patient number in the practice system' }),
    surname: Type.Optional(Type.String({ maxLength: 90 })),
    firstName: Type.Optional(Type.String({ maxLength: 90 })),
    nameAffix: Type.Optional(Type.String({ maxLength: 60 })),
    title: Type.Optional(Type.String({ maxLength: 60 })),
    birthDate: Type.Optional(Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2}|\\d{8})$', description: 'YYYY-MM-DD or TTMMJJJJ' })),
    sex: Type.Optional(Type.Union([Type.Literal('male'), Type.Literal('female'), Type.Literal('diverse'), Type.Literal('unspecified')])),
    insuranceNumber: Type.Optional(Type.String({ maxLength: 60 })),
    residence: Type.Optional(Type.String({ maxLength: 120, description: '3106: postcode and town' })),
    street: Type.Optional(Type.String({ maxLength: 120 })),
    heightCm: Type.Optional(Type.Number({ minimum: 0, maximum: 300 })),
    weightKg: Type.Optional(Type.Number({ minimum: 0, maximum: 700 })),
  },
  { additionalProperties: false },
);
export type OrderPatient = Static<typeof OrderPatientSchema>;

export type OrderKind = 'order' | 'cancel' | 'master-data';
const TYPE_BY_KIND: Readonly<Record<OrderKind, string>> = { order: '6302', cancel: '6303', 'master-data': '6301' };

export interface OrderContent {
  kind: OrderKind;
  patient: OrderPatient;
  /** 8402; not in 6301. */
  testCode?: string;
  /** Written as 8310 (request id) in GDT 3 files only: GDT 2.x defines no field for it. */
  orderId?: string;
  /** 6227, free text for the device operator. */
  comment?: string;
}

type DeviceIds = Pick<GdtDeviceConfig, 'deviceGdtId' | 'ownGdtId' | 'charset' | 'gdtVersion'>;

export function orderRecord(device: DeviceIds, content: OrderContent): GdtRecord {
  const fields: GdtField[] = [];
  const add = (id: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') fields.push({ id, value });
  };
  const gdt3 = device.gdtVersion.startsWith('03');
  const p = content.patient;
  add('8000', TYPE_BY_KIND[content.kind]);
  add('8315', device.deviceGdtId);
  add('8316', device.ownGdtId);
  add('9206', CODE_BY_CHARSET[device.charset]);
  add('9218', device.gdtVersion);
  add('3000', p.number);
  add('3100', p.nameAffix);
  add('3101', p.surname);
  add('3102', p.firstName);
  add('3103', p.birthDate === undefined ? undefined : toGdtDate(p.birthDate));
  add('3104', p.title);
  add('3105', p.insuranceNumber);
  add('3106', p.residence);
  add('3107', p.street);
  add('3110', p.sex === undefined ? undefined : sexCode(p.sex, gdt3));
  if (content.kind !== 'cancel') {
    add('3622', p.heightCm === undefined ? undefined : formatNumber(p.heightCm));
    add('3623', p.weightKg === undefined ? undefined : formatNumber(p.weightKg));
  }
  if (content.kind !== 'master-data') add('8402', content.testCode);
  if (gdt3 && content.kind !== 'master-data') add('8310', content.orderId);
  if (content.kind === 'order') add('6227', content.comment);
  return { fields };
}

/** YYYY-MM-DD → TTMMJJJJ; TTMMJJJJ stays. */
export function toGdtDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m === null ? value : `${m[3]}${m[2]}${m[1]}`;
}

/** GDT 2.1 knows 1 (male) and 2 (female) only; GDT 3 adds D and X. */
function sexCode(sex: NonNullable<OrderPatient['sex']>, gdt3: boolean): string | undefined {
  if (gdt3) return { male: 'M', female: 'W', diverse: 'D', unspecified: 'X' }[sex];
  return sex === 'male' ? '1' : sex === 'female' ? '2' : undefined;
}

/** Decimal comma, as German practice systems write 3622/3623. */
function formatNumber(n: number): string {
  return String(Math.round(n * 10) / 10).replace('.', ',');
}

export type NextFile = { name: string; counter: number } | { wait: 'previous-unconsumed' | 'all-counters-taken' };

/**
 * The name of the next order file. Fixed naming (`<base>.GDT`): never overwrite — while the device
 * has not consumed (deleted) the previous file, wait. Incrementing naming: the next counter
 * extension after `counter` (1…999, wrapping) whose file does not exist.
 */
export function nextOrderFile(naming: GdtDeviceConfig['fileNaming'], base: string, existing: ReadonlySet<string>, counter: number): NextFile {
  const taken = (name: string): boolean => existing.has(name.toUpperCase());
  if (naming === 'fixed') {
    const name = `${base}.GDT`;
    return taken(name) ? { wait: 'previous-unconsumed' } : { name, counter };
  }
  for (let k = 1; k <= 999; k++) {
    const n = ((counter + k - 1) % 999) + 1;
    const name = `${base}.${String(n).padStart(3, '0')}`;
    if (!taken(name)) return { name, counter: n };
  }
  return { wait: 'all-counters-taken' };
}
