import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Configuration section `cards`: the card terminals of the practice (which reader is which terminal,
 * where it stands, which workstations it serves) and the reading limits. Every field has a default,
 * so `{}` is a working configuration that reads every card in every reader.
 */
const Id = Type.String({ pattern: '^([a-z0-9][a-z0-9-]{0,39})?$', default: '' });

export const TerminalConfigSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^([a-z0-9][a-z0-9-]{0,39})?$',
      default: '',
      description: 'Stable terminal id used in events (lower case, digits, dashes); empty: generated from the reader name',
    }),
    name: Type.String({ default: '', maxLength: 64, description: 'Display name, e.g. "Empfang links"' }),
    location: Type.String({ default: '', maxLength: 64, description: 'Where the terminal stands' }),
    workstationIds: Type.Array(Id, { default: [], uniqueItems: true, description: 'Workstations (calendar desks) this terminal serves' }),
    source: Type.Union([Type.Literal('pcsc'), Type.Literal('konnektor'), Type.Literal('mobile')], {
      default: 'pcsc',
      description: 'How the terminal is reached: local PC/SC reader, TI-Konnektor card terminal, mobile terminal',
    }),
    readerName: Type.String({
      default: '',
      maxLength: 200,
      description: 'PC/SC reader name as listed; the trailing reader index may be left out (it changes on re-plug)',
    }),
    apduMode: Type.Union([Type.Literal('short'), Type.Literal('extended'), Type.Literal('auto')], {
      default: 'short',
      description: 'READ BINARY chunking: short (Le ≤ 252, works everywhere), extended (one command per file), auto (probe once)',
    }),
  },
  { default: {}, additionalProperties: false },
);

export const CardsConfigSchema = Type.Object(
  {
    terminals: Type.Array(TerminalConfigSchema, { default: [] }),
    readUnassigned: Type.Boolean({
      default: true,
      description: 'Read cards in readers that are not configured (events carry a generated terminal id and no workstation)',
    }),
    apduTimeoutMs: Type.Integer({ default: 5_000, minimum: 200, maximum: 60_000, description: 'Longest wait for one card command' }),
    retries: Type.Integer({ default: 2, minimum: 0, maximum: 5, description: 'Re-select-and-retry attempts after a spurious 6B00/6986' }),
    removalGraceMs: Type.Integer({
      default: 1_500,
      minimum: 0,
      maximum: 10_000,
      description: 'After a failed command, how long to wait for the removal notice before calling the card unreadable',
    }),
    reconnectBaseMs: Type.Integer({ default: 250, minimum: 50, maximum: 60_000, description: 'First retry delay when pcscd is gone' }),
    reconnectMaxMs: Type.Integer({ default: 2_000, minimum: 100, maximum: 300_000, description: 'Longest retry delay when pcscd is gone' }),
    usbHints: Type.Boolean({ default: true, description: 'Retry at once when a USB device appears (needs /sys/bus/usb)' }),
  },
  { default: {}, additionalProperties: false },
);

export type TerminalConfig = Static<typeof TerminalConfigSchema>;
export type CardsConfig = Static<typeof CardsConfigSchema>;

/** The section with every default applied (for tests and tools that start from nothing). */
export function cardsConfig(input: unknown = {}): CardsConfig {
  const value = Value.Default(CardsConfigSchema, Value.Clone(input ?? {}));
  return Value.Decode(CardsConfigSchema, value);
}

/** Cross-field checks the schema cannot express; each problem names the entry, never card data. */
export function cardsConfigProblems(config: CardsConfig): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  config.terminals.forEach((t, i) => {
    if (t.source === 'pcsc' && t.readerName.trim() === '') problems.push(`/terminals/${i}/readerName: required for a PC/SC terminal`);
    if (t.id !== '') {
      const seen = ids.get(t.id);
      if (seen !== undefined) problems.push(`/terminals/${i}/id: same id as /terminals/${seen}`);
      else ids.set(t.id, i);
    }
  });
  if (config.reconnectMaxMs < config.reconnectBaseMs) problems.push('/reconnectMaxMs: smaller than reconnectBaseMs');
  return problems;
}
