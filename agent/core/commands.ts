import { Value } from '@sinclair/typebox/value';
import type { CommandContext, CommandSpec, CommandTable } from './module.js';
import { ErrorCode, PraxisboxError, toErrorReply, type ErrorReply, describeError } from './errors.js';
import type { Logger } from './logger.js';

export type CommandReply = { status: 'ok'; data: unknown } | { status: 'error'; error: ErrorReply };

interface Registered {
  owner: string;
  spec: CommandSpec;
}

export interface CommandDispatcherDeps {
  log: Logger;
  /** Says why an owner cannot serve commands right now (module unavailable), or undefined when it can. */
  unavailableReason?: (owner: string) => string | undefined;
}

/**
 * The one command surface: MQTT, the local broker, the web UI and the CLI all call `dispatch`.
 * Arguments are validated here, errors are mapped to replies here, and nothing else does either.
 */
export class CommandDispatcher {
  readonly #commands = new Map<string, Registered>();
  readonly #deps: CommandDispatcherDeps;

  constructor(deps: CommandDispatcherDeps) {
    this.#deps = deps;
  }

  register(owner: string, table: CommandTable): void {
    for (const [name, spec] of Object.entries(table)) {
      const existing = this.#commands.get(name);
      if (existing) throw new PraxisboxError(ErrorCode.Internal, `command ${name} is registered twice (${existing.owner}, ${owner})`);
      this.#commands.set(name, { owner, spec });
    }
  }

  list(): { name: string; owner: string; description: string }[] {
    return [...this.#commands].map(([name, r]) => ({ name, owner: r.owner, description: r.spec.description })).sort((a, b) => a.name.localeCompare(b.name));
  }

  has(name: string): boolean {
    return this.#commands.has(name);
  }

  async dispatch(name: string, args: unknown, ctx: CommandContext): Promise<CommandReply> {
    try {
      return { status: 'ok', data: await this.run(name, args, ctx) };
    } catch (err) {
      const reply = toErrorReply(err);
      const level = reply.code === ErrorCode.Internal ? 'error' : 'info';
      this.#deps.log[level]({ command: name, source: ctx.source, code: reply.code, err }, `command ${name} failed: ${describeError(err)}`);
      return { status: 'error', error: reply };
    }
  }

  /** Like `dispatch` but throws typed errors; for in-process callers. */
  async run(name: string, args: unknown, ctx: CommandContext): Promise<unknown> {
    const registered = this.#commands.get(name);
    if (!registered) throw new PraxisboxError(ErrorCode.UnknownCommand, `unknown command: ${name}`);
    const unavailable = this.#deps.unavailableReason?.(registered.owner);
    if (unavailable !== undefined) {
      throw new PraxisboxError(ErrorCode.DeviceUnavailable, `${registered.owner} is unavailable: ${unavailable}`);
    }
    const { spec } = registered;
    let input: unknown = args ?? {};
    if (spec.args) {
      input = Value.Default(spec.args, Value.Clone(input));
      const problems = [...Value.Errors(spec.args, input)].slice(0, 10).map((e) => ({ path: e.path || '/', message: e.message }));
      if (problems.length > 0) {
        const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
        throw new PraxisboxError(ErrorCode.InvalidInput, `invalid arguments for ${name}: ${text}`, { details: { problems } });
      }
    }
    return spec.handler(input, ctx);
  }
}
