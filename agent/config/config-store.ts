import fs from 'node:fs/promises';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { Config } from './schema.js';
import { checkConfig, defaultConfig, formatProblems, type ConfigProblem } from './validate.js';
import { migrateConfig } from './migrations.js';
import { ErrorCode, PraxisboxError, describeError } from '../core/errors.js';
import { readIfExists, writeFileDurable, ensurePrivateDir } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';

/**
 * lowdb adapter that writes like a database should: temp file, fsync, rename, fsync the directory,
 * mode 0600. lowdb's bundled JSONFile adapter renames without fsync (its steno writer), which loses
 * the file's content on a power cut right after a save.
 */
export class DurableJsonFile implements Adapter<unknown> {
  constructor(readonly file: string) {}

  async read(): Promise<unknown> {
    const buf = await readIfExists(this.file);
    if (buf === undefined) return null;
    try {
      return JSON.parse(buf.toString('utf8')) as unknown;
    } catch {
      throw new PraxisboxError(ErrorCode.Corrupt, 'configuration file is not valid JSON');
    }
  }

  async write(data: unknown): Promise<void> {
    await ensurePrivateDir(path.dirname(this.file));
    await writeFileDurable(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  }
}

export interface ConfigLoadReport {
  /** `file`: loaded from disk; `defaults`: no usable file, running on built-in defaults. */
  source: 'file' | 'defaults';
  /** The box runs on defaults nobody has confirmed: shown as "needs setup" in status and UI. */
  needsSetup: boolean;
  problem?: string;
  keptAs?: string;
  migrated: string[];
}

export interface ConfigStoreDeps {
  file: string;
  log: Logger;
  clock: Clock;
}

export interface ConfigChange {
  config: Config;
  sections: string[];
}

/** The configuration on disk and in memory. All writes go through `replace`, which validates first. */
export class ConfigStore {
  readonly #deps: ConfigStoreDeps;
  readonly #db: Low<unknown>;
  #config: Config = defaultConfig();
  #report: ConfigLoadReport = { source: 'defaults', needsSetup: true, migrated: [] };
  #blockedReason: string | undefined;
  #writing: Promise<unknown> = Promise.resolve();

  constructor(deps: ConfigStoreDeps) {
    this.#deps = deps;
    this.#db = new Low<unknown>(new DurableJsonFile(deps.file), null);
  }

  get file(): string {
    return this.#deps.file;
  }

  get(): Config {
    return this.#config;
  }

  report(): ConfigLoadReport {
    return { ...this.#report };
  }

  async load(): Promise<ConfigLoadReport> {
    const { log } = this.#deps;
    let raw: unknown;
    try {
      // Read through the adapter, not Low.read(): lowdb keeps its old data for falsy JSON values
      // (`false`, `0`), which would make such a file look absent and later overwrite it.
      raw = await this.#db.adapter.read();
    } catch (err) {
      return this.#rejectFile(describeError(err));
    }
    if (raw === null) {
      this.#config = defaultConfig();
      this.#report = { source: 'defaults', needsSetup: true, migrated: [] };
      log.info({ file: this.#deps.file }, 'no configuration file yet: running on defaults (needs setup)');
      return this.report();
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) return this.#rejectFile('configuration file does not hold a JSON object');
    let migrated: ReturnType<typeof migrateConfig>;
    try {
      migrated = migrateConfig(raw as Record<string, unknown>);
    } catch (err) {
      return this.#rejectFile(describeError(err));
    }
    const check = checkConfig(migrated.doc);
    if (!check.ok) return this.#rejectFile(`configuration is invalid:\n${formatProblems(check.problems)}`);
    this.#config = check.config;
    this.#report = { source: 'file', needsSetup: false, migrated: migrated.applied };
    if (migrated.applied.length > 0) {
      const backup = `${this.#deps.file}.v${migrated.from}.bak`;
      await fs.copyFile(this.#deps.file, backup);
      await this.#db.adapter.write(this.#config);
      log.warn({ from: migrated.from, steps: migrated.applied, backup: path.basename(backup) }, 'configuration migrated');
    }
    return this.report();
  }

  /**
   * Keeps an unusable file aside under a new name (never overwriting it or anything else), reports
   * it loudly and falls back to defaults. If the file cannot be moved, saving is blocked so the
   * original is never overwritten either.
   */
  async #rejectFile(problem: string): Promise<ConfigLoadReport> {
    const stamp = new Date(this.#deps.clock.now()).toISOString().replace(/[:.]/g, '-');
    const keptAs = `${this.#deps.file}.rejected-${stamp}`;
    let moved = false;
    try {
      await fs.link(this.#deps.file, keptAs);
      await fs.unlink(this.#deps.file);
      moved = true;
    } catch (err) {
      this.#blockedReason = `the unusable configuration file could not be moved aside (${describeError(err)}); fix or remove it by hand`;
    }
    this.#config = defaultConfig();
    this.#report = {
      source: 'defaults',
      needsSetup: true,
      problem,
      ...(moved ? { keptAs } : {}),
      migrated: [],
    };
    this.#deps.log.error(
      { file: this.#deps.file, ...(moved ? { keptAs } : {}), problem },
      `CONFIGURATION REJECTED: ${problem.split('\n')[0] ?? ''} — running on defaults (needs setup)${moved ? `; the file was kept as ${path.basename(keptAs)}` : ''}`,
    );
    return this.report();
  }

  /** Validates a whole document and, when valid, stores it durably and makes it current. */
  async replace(doc: unknown): Promise<ConfigChange> {
    const run = async (): Promise<ConfigChange> => {
      if (this.#blockedReason) throw new PraxisboxError(ErrorCode.CommandRejected, this.#blockedReason);
      const check = checkConfig(doc);
      if (!check.ok) throw invalidConfig(check.problems);
      const previous = this.#config;
      this.#db.data = check.config;
      await this.#db.write();
      this.#config = check.config;
      this.#report = { source: 'file', needsSetup: false, migrated: [] };
      return { config: check.config, sections: changedSections(previous, check.config) };
    };
    const result = this.#writing.then(run, run);
    this.#writing = result.catch(() => undefined);
    return result;
  }

  /** Sets one value by dotted path (`outbox.maxBytes`), validating the whole result. */
  async set(dottedPath: string, value: unknown): Promise<ConfigChange> {
    return this.replace(withValueAt(this.#config, dottedPath, value));
  }
}

export function invalidConfig(problems: readonly ConfigProblem[]): PraxisboxError {
  return new PraxisboxError(ErrorCode.InvalidConfig, `invalid configuration:\n${formatProblems(problems)}`, {
    details: { problems },
  });
}

export function changedSections(a: Config, b: Config): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k]));
}

/** A deep copy of `doc` with `value` at `dottedPath`; intermediate objects are created. */
export function withValueAt(doc: unknown, dottedPath: string, value: unknown): Record<string, unknown> {
  const keys = dottedPath.split('.');
  if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
    throw new PraxisboxError(ErrorCode.InvalidInput, `"${dottedPath}" is not a configuration path`);
  }
  const root = structuredClone(doc ?? {}) as Record<string, unknown>;
  let node = root;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
  return root;
}

/** The value at a dotted path, or undefined. */
export function valueAt(doc: unknown, dottedPath: string): unknown {
  let node: unknown = doc;
  for (const key of dottedPath.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
