import { Type } from '@sinclair/typebox';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { ConfigStore } from './config-store.js';
import { valueAt } from './config-store.js';
import { checkConfig } from './validate.js';
import { notFound } from '../core/errors.js';

export interface ConfigModuleDeps {
  store: ConfigStore;
  bus: EventBus<AgentEvents>;
  log: Logger;
}

const ConfigPath = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)*$', maxLength: 200 });

/**
 * The configuration's face towards status, health and commands. The store is loaded before any
 * module starts (everything reads it); this module reports on it and serves `config.*` commands.
 */
export class ConfigModule implements AgentModule {
  readonly name = 'config';
  readonly #deps: ConfigModuleDeps;

  constructor(deps: ConfigModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  status(): Record<string, unknown> {
    const report = this.#deps.store.report();
    return { file: this.#deps.store.file, ...report };
  }

  healthcheck(): HealthReport {
    const report = this.#deps.store.report();
    if (report.problem !== undefined) {
      return { level: 'degraded', reason: `configuration file rejected (${report.problem.split('\n')[0] ?? ''}); running on defaults` };
    }
    if (report.needsSetup) return { level: 'degraded', reason: 'needs setup: no configuration saved yet' };
    return { level: 'ok' };
  }

  commands(): CommandTable {
    const store = this.#deps.store;
    return {
      'config.get': {
        description: 'The current configuration, or one value by dotted path',
        args: Type.Object({ path: Type.Optional(ConfigPath) }, { additionalProperties: false }),
        handler: async (args) => {
          const { path } = args as { path?: string };
          if (path === undefined || path === '') return store.get();
          const value = valueAt(store.get(), path);
          // The path is not echoed: replies may travel to the vendor, and a caller may pass anything.
          if (value === undefined) throw notFound('no configuration value at the given path');
          return value;
        },
      },
      'config.set': {
        description: 'Sets one value by dotted path; the whole result is validated before it is stored',
        args: Type.Object({ path: ConfigPath, value: Type.Unknown() }, { additionalProperties: false }),
        handler: async (args) => {
          const { path, value } = args as { path: string; value: unknown };
          const change = await store.set(path, value);
          this.#announce(change.sections, change.config.version);
          return { changed: change.sections };
        },
      },
      'config.replace': {
        description: 'Replaces the whole configuration after validating it',
        args: Type.Object({ config: Type.Unknown() }, { additionalProperties: false }),
        handler: async (args) => {
          const change = await store.replace((args as { config: unknown }).config);
          this.#announce(change.sections, change.config.version);
          return { changed: change.sections };
        },
      },
      'config.validate': {
        description: 'Checks a configuration document without storing it',
        args: Type.Object({ config: Type.Unknown() }, { additionalProperties: false }),
        handler: async (args) => {
          const check = checkConfig((args as { config: unknown }).config);
          return check.ok ? { valid: true, problems: [] } : { valid: false, problems: check.problems };
        },
      },
    };
  }

  #announce(sections: string[], version: number): void {
    if (sections.length === 0) return;
    this.#deps.log.info({ sections }, `configuration changed: ${sections.join(', ')}`);
    this.#deps.bus.emit('config.changed', { sections, version });
  }
}
