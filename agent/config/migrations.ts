import { CONFIG_VERSION } from './schema.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

/** One step from `from` to `from + 1`. Pure: takes the parsed document, returns the new one. */
export interface Migration {
  from: number;
  describe: string;
  migrate(doc: Record<string, unknown>): Record<string, unknown>;
}

/**
 * The product's migrations, oldest first. Version 1 is the first released layout; a change to the
 * schema that is not backwards compatible bumps CONFIG_VERSION and adds a step here (with a test
 * that migrates a stored document of the old version).
 */
export const MIGRATIONS: readonly Migration[] = [];

export interface MigrationResult {
  doc: Record<string, unknown>;
  from: number;
  applied: string[];
}

/**
 * Brings a stored document to `target`. A document without `version` is version 1 (hand-written
 * files). A version newer than this agent knows is refused: guessing would silently drop settings.
 */
export function migrateConfig(
  input: Record<string, unknown>,
  migrations: readonly Migration[] = MIGRATIONS,
  target: number = CONFIG_VERSION,
): MigrationResult {
  const from = input['version'] === undefined ? 1 : input['version'];
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1) {
    throw new PraxisboxError(ErrorCode.InvalidConfig, `/version: must be a positive integer`);
  }
  if (from > target) {
    throw new PraxisboxError(ErrorCode.InvalidConfig, `/version: configuration version ${from} is newer than this agent supports (${target})`);
  }
  let doc: Record<string, unknown> = { ...input, version: from };
  const applied: string[] = [];
  for (let v = from; v < target; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step) throw new PraxisboxError(ErrorCode.Internal, `no configuration migration from version ${v}`);
    doc = { ...step.migrate(doc), version: v + 1 };
    applied.push(`${v}→${v + 1}: ${step.describe}`);
  }
  return { doc, from, applied };
}
