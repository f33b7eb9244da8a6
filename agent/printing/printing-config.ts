import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Configuration section `printing`: the practice's printers and which printer, tray, sides, copies
 * and colour each document type goes to. Every field has a default, so `{}` is valid (nothing is
 * mapped: `print` then refuses with "no printer configured").
 *
 * Printer passwords are NOT here: `config.get` replies travel to the cloud and into support
 * bundles, and a redacted placeholder would be written back by the next `config.replace`. They are
 * kept in a 0600 file per printer (see printer-secrets.ts); the config only names the user.
 */

/** Document types the cloud sends; `other` is also the fallback for a type without its own mapping. */
export const DOCUMENT_TYPES = {
  au: 'Arbeitsunfähigkeitsbescheinigung',
  rezept: 'Rezept',
  ueberweisung: 'Überweisung',
  befund: 'Befund',
  etikett: 'Etikett',
  brief: 'Brief',
  other: 'Sonstiges',
} as const;
export type KnownDocumentType = keyof typeof DOCUMENT_TYPES;

export const DOCUMENT_TYPE_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
export const PRINTER_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,39}$';

export const PrinterConfigSchema = Type.Object(
  {
    id: Type.String({ pattern: PRINTER_ID_PATTERN, description: 'Stable printer id used in mappings, commands and events (lower case, digits, dashes)' }),
    name: Type.String({ default: '', maxLength: 64, description: 'Display name, e.g. "Empfang Laser"' }),
    uri: Type.String({ pattern: '^ipps?://', maxLength: 512, description: 'ipp://host[:port]/path or ipps://…; USB printers: ipp://localhost:60000/ipp/print (ipp-usb) or a local CUPS queue' }),
    username: Type.String({ default: '', maxLength: 128, description: 'HTTP Basic user; the password is set with printers.set-password (kept in a 0600 file, not here)' }),
    certSha256: Type.Array(Type.String({ pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' }), {
      default: [],
      description: "ipps: SHA-256 fingerprints of the printer's own certificate (pinning); empty = chain to caFile or the system CAs",
    }),
    caFile: Type.String({ default: '', description: 'ipps: PEM CA file the printer certificate must chain to (when not pinned)' }),
    serverName: Type.String({ default: '', description: 'ipps with caFile: the name in the certificate when the printer is reached by IP' }),
  },
  { additionalProperties: false },
);

export const DocumentMappingSchema = Type.Object(
  {
    printer: Type.String({ default: '', description: 'Printer id; empty = this document type is not printed' }),
    tray: Type.String({ default: '', maxLength: 64, description: "media-source keyword as the printer lists it (tray-1, manual, …); empty = the printer's default" }),
    mediaSize: Type.Union([Type.Literal(''), Type.Literal('A4'), Type.Literal('A5'), Type.Literal('A6'), Type.Literal('Letter')], {
      default: '',
      description: 'Paper size sent with the tray; empty = what the printer reports loaded in that tray',
    }),
    sides: Type.Union([Type.Literal(''), Type.Literal('one-sided'), Type.Literal('two-sided-long-edge'), Type.Literal('two-sided-short-edge')], {
      default: '',
      description: "empty = the printer's default",
    }),
    copies: Type.Integer({ default: 1, minimum: 1, maximum: 99 }),
    color: Type.Union([Type.Literal(''), Type.Literal('auto'), Type.Literal('monochrome'), Type.Literal('color')], {
      default: '',
      description: "print-color-mode; empty = the printer's default",
    }),
  },
  { default: {}, additionalProperties: false },
);

export const PrintQueueConfigSchema = Type.Object(
  {
    deadlineMinutes: Type.Number({
      default: 60,
      exclusiveMinimum: 0,
      maximum: 7 * 24 * 60,
      description: 'A job the printer has not taken by then (busy, offline, unreachable) ends as failed',
    }),
    retryBaseMs: Type.Integer({ default: 2_000, minimum: 50, maximum: 600_000, description: 'First retry delay; doubles per attempt (with jitter)' }),
    retryMaxMs: Type.Integer({ default: 60_000, minimum: 100, maximum: 3_600_000, description: 'Longest retry delay' }),
    pollMs: Type.Integer({ default: 1_000, minimum: 20, maximum: 60_000, description: 'Get-Job-Attributes interval while a handed-over job prints' }),
    followHours: Type.Number({
      default: 24,
      exclusiveMinimum: 0,
      description: 'A handed-over job whose end the printer never reports is given up (failed, reason says so) after this long',
    }),
    keepFinishedHours: Type.Number({ default: 48, minimum: 0, description: 'Finished job records (no document) are kept this long for print.jobs and duplicate requestIds' }),
    maxDocumentBytes: Type.Integer({ default: 64 * 1024 * 1024, minimum: 1024, maximum: 1024 * 1024 * 1024, description: 'Largest PDF accepted' }),
    statusPollSeconds: Type.Integer({ default: 30, minimum: 2, maximum: 3600, description: 'How often printer state (paper out, offline) is read for printer.state events' }),
  },
  { default: {}, additionalProperties: false },
);

export const PrintingSection = Type.Object(
  {
    printers: Type.Array(PrinterConfigSchema, { default: [] }),
    documentTypes: Type.Record(Type.String({ pattern: DOCUMENT_TYPE_PATTERN }), DocumentMappingSchema, {
      default: {},
      additionalProperties: false,
      description: 'Document type (au, rezept, ueberweisung, befund, etikett, brief, other, or own ones) → printer and options',
    }),
    queue: PrintQueueConfigSchema,
  },
  { default: {}, additionalProperties: false },
);

export type PrinterConfig = Static<typeof PrinterConfigSchema>;
export type DocumentMapping = Static<typeof DocumentMappingSchema>;
export type PrintQueueConfig = Static<typeof PrintQueueConfigSchema>;
export type PrintingConfig = Static<typeof PrintingSection>;

/** The section with every default applied (tests and tools that start from a partial object). */
export function printingConfig(input: unknown = {}): PrintingConfig {
  const value = Value.Default(PrintingSection, Value.Clone(input ?? {}));
  const problems = [...Value.Errors(PrintingSection, value)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
  if (problems.length > 0) throw new Error(`invalid printing configuration: ${problems.join('; ')}`);
  return Value.Decode(PrintingSection, value);
}

/** The mapping a document type uses: its own, else `other`'s (undefined when neither names a printer). */
export function mappingFor(config: PrintingConfig, docType: string): { mapping: DocumentMapping; via: string } | undefined {
  const own = config.documentTypes[docType];
  if (own && own.printer !== '') return { mapping: own, via: docType };
  const other = config.documentTypes['other'];
  if (other && other.printer !== '') return { mapping: other, via: 'other' };
  return undefined;
}

/** Cross-field checks the schema cannot express (unknown printer ids, duplicates); paths as in the file. */
export function printingConfigProblems(config: PrintingConfig): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  config.printers.forEach((p, i) => {
    const seen = ids.get(p.id);
    if (seen !== undefined) problems.push(`/printers/${i}/id: same id as /printers/${seen}`);
    else ids.set(p.id, i);
    if (p.uri.startsWith('ipp://') && (p.certSha256.length > 0 || p.caFile !== '')) problems.push(`/printers/${i}: certificate settings need an ipps:// URI`);
  });
  for (const [type, m] of Object.entries(config.documentTypes)) {
    if (m.printer !== '' && !ids.has(m.printer)) problems.push(`/documentTypes/${type}/printer: no printer with id ${m.printer}`);
  }
  if (config.queue.retryMaxMs < config.queue.retryBaseMs) problems.push('/queue/retryMaxMs: smaller than retryBaseMs');
  return problems;
}
