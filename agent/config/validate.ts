import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';

/** One problem in a configuration document, as `path: message` for people. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export type ConfigCheck = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Fills defaults into a copy of `doc`, then checks it against the schema. Pure. */
export function checkConfig(doc: unknown): ConfigCheck {
  const filled: unknown = Value.Default(ConfigSchema, Value.Clone(doc ?? {}));
  const problems = [...Value.Errors(ConfigSchema, filled)].map((e) => ({
    path: e.path === '' ? '/' : e.path,
    message: explain(e.schema, e.message),
  }));
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };
  return { ok: true, config: filled as Config };
}

/** The configuration a box runs on before anyone set it up. */
export function defaultConfig(): Config {
  const check = checkConfig({});
  if (!check.ok) throw new Error(`default configuration is invalid: ${formatProblems(check.problems)}`);
  return check.config;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}

/** TypeBox says "Expected union value" for enumerations; people need the allowed values. */
function explain(schema: unknown, fallback: string): string {
  const anyOf = (schema as { anyOf?: Array<{ const?: unknown }> }).anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0 && anyOf.every((s) => s.const !== undefined)) {
    return `must be one of ${anyOf.map((s) => JSON.stringify(s.const)).join(', ')}`;
  }
  if (fallback === 'Unexpected property') return 'unknown setting';
  return fallback;
}

/** Union errors repeat the same path once per branch; people need it once. */
function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = p.path;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
