import type { TSchema } from '@sinclair/typebox';

/** Lifecycle states the supervisor tracks for every module. */
export type ModuleState = 'stopped' | 'starting' | 'running' | 'unavailable' | 'stopping' | 'disabled';

export type HealthLevel = 'ok' | 'degraded' | 'fault';

export interface HealthReport {
  level: HealthLevel;
  /** Plain reason for anything not ok; never contains patient data. */
  reason?: string;
}

/** Who is asking: commands arrive from the cloud, the local broker, the web UI or the local CLI. */
export interface CommandContext {
  source: 'cloud' | 'local-broker' | 'web' | 'cli' | 'internal';
  user?: string;
  signal?: AbortSignal;
  /** The id the caller gave the command (MQTT `id`): handlers with side effects use it to act once. */
  commandId?: string;
}

export interface CommandSpec {
  description: string;
  /** Arguments are checked against this before the handler runs; errors list `path: message`. */
  args?: TSchema;
  handler(args: unknown, ctx: CommandContext): Promise<unknown>;
}

export type CommandTable = Readonly<Record<string, CommandSpec>>;

/**
 * The contract every module of the agent fulfils. Constructors only store their deps; nothing
 * happens before `start`. A `start` that throws makes the module `unavailable` (with the error as
 * reason) and the supervisor retries it with backoff; it never affects the other modules.
 */
export interface AgentModule {
  readonly name: string;
  /** A critical module that is unavailable makes the whole box `fault` (red) instead of `degraded`. */
  readonly critical?: boolean;
  /** Config sections this module reads at start; a change to one of them restarts the module. */
  readonly configSections?: readonly string[];
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Module-specific facts for `praxisbox status` (counts, paths, versions) — no patient data. */
  status(): Record<string, unknown>;
  healthcheck(): HealthReport | Promise<HealthReport>;
  commands(): CommandTable;
}
