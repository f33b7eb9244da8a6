import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

/**
 * Configuration section `gdt`: the medical devices the box exchanges GDT files with, and how their
 * folders are watched. Every field but a device's `id` has a default, so `{}` is a working (empty)
 * configuration. Folder paths may be relative: they resolve against the GDT root
 * (`PRAXISBOX_GDT_ROOT`, by default `DATA_DIR/gdt`).
 */

/** GDT ids (8315/8316): at most 8 characters by the spec, printable ASCII (they go into every file). */
const gdtId = (def: string, description: string) => Type.String({ minLength: 1, maxLength: 8, pattern: '^[\\x21-\\x7e]{1,8}$', default: def, description });

export const PathMappingSchema = Type.Object(
  {
    devicePrefix: Type.String({
      minLength: 1,
      maxLength: 260,
      description: 'Path prefix as the device PC writes it into 6305, e.g. C:\\GDT\\ or \\\\server\\share\\befunde\\ (case-insensitive)',
    }),
    localDir: Type.String({ minLength: 1, maxLength: 4096, description: 'Folder on the box that prefix means; relative to the GDT root' }),
  },
  { additionalProperties: false },
);

export const GdtDeviceSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Stable device id used in commands and events (lower case, digits, dashes)' }),
    name: Type.String({ default: '', maxLength: 64, description: 'Display name, e.g. "EKG Raum 2"' }),
    enabled: Type.Boolean({ default: true }),
    orderDir: Type.String({ default: '', maxLength: 4096, description: 'Folder the box writes orders into; relative to the GDT root; empty = ROOT/<id>' }),
    resultDir: Type.String({ default: '', maxLength: 4096, description: 'Folder the device writes results into; relative to the GDT root; empty = ROOT/<id>' }),
    ownGdtId: gdtId('PRAXBOX', 'GDT id of the box (8316 in orders, 8315 expected in results)'),
    deviceGdtId: gdtId('DEVICE', 'GDT id of the device (8315 in orders)'),
    charset: Type.Union([Type.Literal('iso-8859-1'), Type.Literal('cp437'), Type.Literal('7bit')], {
      default: 'iso-8859-1',
      description: 'Charset of the order files the box writes (9206); results are read in whatever they declare',
    }),
    gdtVersion: Type.Union([Type.Literal('02.10'), Type.Literal('02.00'), Type.Literal('03.00')], { default: '02.10', description: 'Version written into 9218' }),
    fileNaming: Type.Union([Type.Literal('fixed'), Type.Literal('incrementing')], {
      default: 'fixed',
      description: 'fixed: NAME.GDT (waits until the device consumed the previous file); incrementing: NAME.001, NAME.002 …',
    }),
    orderFileBase: Type.String({
      default: '',
      pattern: '^[A-Za-z0-9_]{0,8}$',
      description: 'Order file name without extension; empty = receiver short id (4) + sender short id (4)',
    }),
    testCodes: Type.Array(Type.String({ minLength: 1, maxLength: 60 }), {
      default: [],
      uniqueItems: true,
      description: 'Test codes (8402) the device offers, e.g. EKG01; empty = any code is accepted',
    }),
    pathMappings: Type.Array(PathMappingSchema, { default: [], description: 'How 6305 attachment paths of the device PC map to folders on the box' }),
  },
  { additionalProperties: false },
);

export const GdtSection = Type.Object(
  {
    devices: Type.Array(GdtDeviceSchema, { default: [] }),
    watchMode: Type.Union([Type.Literal('auto'), Type.Literal('inotify'), Type.Literal('polling')], {
      default: 'auto',
      description: 'auto: polling on network file systems (SMB, NFS, FUSE), inotify elsewhere',
    }),
    pollIntervalMs: Type.Integer({ default: 1_000, minimum: 100, maximum: 60_000, description: 'Folder scan interval when polling' }),
    stableMs: Type.Integer({ default: 200, minimum: 20, maximum: 60_000, description: 'A result file is complete once size and mtime did not change for this long' }),
    incompleteWaitMs: Type.Integer({
      default: 5_000,
      minimum: 0,
      maximum: 600_000,
      description: 'A file whose last record is shorter than its 8100 says is imported only after this long without change',
    }),
    attachmentWaitMs: Type.Integer({ default: 30_000, minimum: 0, maximum: 3_600_000, description: 'How long a result waits for a referenced attachment that is missing or still being written' }),
    maxAttachmentBytes: Type.Integer({ default: 20 * 1024 * 1024, minimum: 1024, maximum: 40 * 1024 * 1024, description: 'Larger attachments are listed, not sent' }),
    maxResultFileBytes: Type.Integer({ default: 8 * 1024 * 1024, minimum: 1024, maximum: 64 * 1024 * 1024, description: 'Larger result files are quarantined unread' }),
    archiveRetentionDays: Type.Number({ default: 7, minimum: 0, maximum: 3650, description: 'Imported files are deleted from archive/ after this many days' }),
    quarantineRetentionDays: Type.Number({ default: 30, minimum: 0, maximum: 3650, description: 'Rejected files are deleted from quarantine/ after this many days' }),
  },
  { default: {}, additionalProperties: false },
);

export type GdtDeviceConfig = Static<typeof GdtDeviceSchema>;
export type GdtConfig = Static<typeof GdtSection>;
export type GdtWatchMode = GdtConfig['watchMode'];

/** The section with every default applied (for tests and tools that start from a partial object). */
export function gdtConfig(input: unknown = {}): GdtConfig {
  const value = Value.Default(GdtSection, Value.Clone(input ?? {}));
  const errors = [...Value.Errors(GdtSection, value)];
  if (errors.length > 0) {
    throw new PraxisboxError(ErrorCode.InvalidConfig, `invalid gdt configuration: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
  return value as GdtConfig;
}
