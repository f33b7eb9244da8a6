import { Type, type Static, type TObject } from '@sinclair/typebox';
import { CloudSection, LocalBrokerSection } from '../cloud/cloud-config.js';
import { GdtSection } from '../gdt/gdt-config.js';
import { PrintingSection } from '../printing/printing-config.js';
import { CardsConfigSchema } from '../cards/cards-config.js';
import { WebSection } from '../web/web-config.js';

/**
 * The one configuration schema. TypeScript types, defaults (`default` on every field) and the
 * validation run on load, on `config set`, on the web UI and on cloud-desired config all derive
 * from it. Each module contributes its section here; nothing else defines configuration.
 */
export const CONFIG_VERSION = 1;

const LogLevel = Type.Union(
  [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace')],
  { default: 'info', description: 'Minimum level written to the journal' },
);

export const BoxSection = Type.Object(
  {
    name: Type.String({ default: 'Praxisbox', minLength: 1, maxLength: 64, description: 'Display name of this box (e.g. the practice site)' }),
  },
  { default: {}, additionalProperties: false },
);

export const LogSection = Type.Object(
  {
    level: LogLevel,
    /** Lines kept in memory for `logs.tail` and diagnostics bundles. */
    ringLines: Type.Integer({ default: 2000, minimum: 100, maximum: 50_000 }),
  },
  { default: {}, additionalProperties: false },
);

export const OutboxSection = Type.Object(
  {
    maxBytes: Type.Integer({
      default: 256 * 1024 * 1024,
      minimum: 1024 * 1024,
      description: 'Undelivered bytes the outbox holds before producers get backpressure (health turns red)',
    }),
    maxAgeHours: Type.Number({
      default: 72,
      exclusiveMinimum: 0,
      description: 'Undelivered events older than this turn health red; they are kept, never dropped',
    }),
    segmentBytes: Type.Integer({ default: 8 * 1024 * 1024, minimum: 64 * 1024, maximum: 256 * 1024 * 1024 }),
  },
  { default: {}, additionalProperties: false },
);

export const ModulesSection = Type.Object(
  {
    disabled: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), {
      default: [],
      uniqueItems: true,
      description: 'Modules not to start (shown as disabled in status)',
    }),
  },
  { default: {}, additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    version: Type.Literal(CONFIG_VERSION, { default: CONFIG_VERSION }),
    box: BoxSection,
    log: LogSection,
    outbox: OutboxSection,
    modules: ModulesSection,
    cloud: CloudSection,
    localBroker: LocalBrokerSection,
    gdt: GdtSection,
    printing: PrintingSection,
    cards: CardsConfigSchema,
    web: WebSection,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigSectionName = Exclude<keyof Config, 'version'>;

export function sectionSchema(name: ConfigSectionName): TObject {
  return ConfigSchema.properties[name];
}
