import { Type } from '@sinclair/typebox';
import type { AgentModule, CommandTable, HealthLevel, HealthReport } from './module.js';
import type { ModuleSnapshot } from './supervisor.js';
import type { LogRing } from './log-ring.js';
import type { Clock } from './clock.js';

/** Everything `praxisbox status`, `health.get` and the cloud's health topic show. No patient data. */
export interface AgentStatus {
  boxId?: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  health: HealthLevel;
  needsSetup: boolean;
  memory: { rssBytes: number; heapUsedBytes: number };
  modules: ModuleSnapshot[];
}

export interface SystemModuleDeps {
  version: string;
  clock: Clock;
  logRing: LogRing;
  /** Collects the live status (supervisor snapshot etc.); provided by the agent assembly. */
  collectStatus: () => Promise<AgentStatus>;
  listCommands: () => { name: string; owner: string; description: string }[];
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const LEVEL_NUMBERS: Record<(typeof LEVELS)[number], number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Built-in commands every box serves, whatever devices it has. */
export class SystemModule implements AgentModule {
  readonly name = 'system';
  readonly #deps: SystemModuleDeps;

  constructor(deps: SystemModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  status(): Record<string, unknown> {
    return { version: this.#deps.version };
  }

  healthcheck(): HealthReport {
    return { level: 'ok' };
  }

  commands(): CommandTable {
    return {
      ping: {
        description: 'Answers pong with the box time',
        handler: async () => ({ pong: true, time: new Date(this.#deps.clock.now()).toISOString(), version: this.#deps.version }),
      },
      'commands.list': {
        description: 'Every command this box serves, with its module and description',
        handler: async () => ({ commands: this.#deps.listCommands() }),
      },
      status: {
        description: 'Modules, health, outbox depth and versions',
        handler: async () => this.#deps.collectStatus(),
      },
      'health.get': {
        description: 'Overall health and each module state with its reason',
        handler: async () => {
          const s = await this.#deps.collectStatus();
          return {
            health: s.health,
            modules: s.modules.map((m) => ({ name: m.name, state: m.state, health: m.health.level, ...(m.health.reason ? { reason: m.health.reason } : {}) })),
            uptimeSeconds: s.uptimeSeconds,
            memory: s.memory,
            version: s.version,
          };
        },
      },
      'logs.tail': {
        description: 'The newest log lines (already redacted), optionally from a minimum level up',
        args: Type.Object(
          {
            lines: Type.Integer({ minimum: 1, maximum: 2000, default: 100 }),
            level: Type.Optional(Type.Union(LEVELS.map((l) => Type.Literal(l)))),
          },
          { additionalProperties: false },
        ),
        handler: async (args) => {
          const { lines, level } = args as { lines: number; level?: (typeof LEVELS)[number] };
          const min = level ? LEVEL_NUMBERS[level] : 0;
          const all = this.#deps.logRing.tail(this.#deps.logRing.size);
          const picked = all.filter((l) => (LEVEL_NUMBERS[l['level'] as (typeof LEVELS)[number]] ?? 0) >= min);
          return { lines: picked.slice(-lines) };
        },
      },
    };
  }
}
