import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { callAgent, AgentNotRunning } from '../control/control-client.js';
import type { CommandReply } from '../core/commands.js';
import { ConfigStore, valueAt } from '../config/config-store.js';
import { checkConfig, formatProblems } from '../config/validate.js';
import { migrateConfig } from '../config/migrations.js';
import { createLogger } from '../core/logger.js';
import { systemClock } from '../core/clock.js';
import { describeError, isPraxisboxError } from '../core/errors.js';
import { Exit, type CliContext } from './main.js';
import { Writable } from 'node:stream';

const CONFIG_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

/**
 * `praxisbox config get|set|validate`. With a running agent, get/set go through its control socket
 * (the agent validates, stores and applies the change); without one they work on the file directly
 * through the same store, so a box can be configured before its first start.
 */
export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('read, change and check the configuration');

  config
    .command('get')
    .argument('[path]', 'dotted path of one value, e.g. outbox.maxBytes')
    .description('print the configuration, or one value of it, as JSON')
    .option('-c, --config <file>', 'configuration file when the agent is not running')
    .action(async (path: string | undefined, opts: { config?: string }) => {
      if (path !== undefined && !CONFIG_PATH.test(path)) return fail(ctx, 'a configuration path is dotted names, e.g. outbox.maxBytes');
      const reply = await viaAgentOr(ctx, opts.config, 'config.get', path ? { path } : {}, async (store) => {
        const value = path ? valueAt(store.get(), path) : store.get();
        if (value === undefined) throw new Error(`no configuration value at ${path}`);
        return value;
      });
      if (reply.status === 'error') return fail(ctx, reply.error.message);
      ctx.io.stdout.write(`${JSON.stringify(reply.data, null, 2)}\n`);
    });

  config
    .command('set')
    .argument('<path>', 'dotted path, e.g. log.level')
    .argument('<value>', 'the value; parsed as JSON when it is valid JSON (numbers, true/false, lists), else taken as text')
    .description('change one value; the whole configuration is validated before anything is stored')
    .option('-c, --config <file>', 'configuration file when the agent is not running')
    .action(async (path: string, raw: string, opts: { config?: string }) => {
      if (!CONFIG_PATH.test(path)) return fail(ctx, 'a configuration path is dotted names, e.g. log.level');
      const value = parseValue(raw);
      const reply = await viaAgentOr(ctx, opts.config, 'config.set', { path, value }, async (store) => {
        const change = await store.set(path, value);
        return { changed: change.sections };
      });
      if (reply.status === 'error') return fail(ctx, reply.error.message);
      const changed = (reply.data as { changed: string[] }).changed;
      ctx.io.stdout.write(changed.length > 0 ? `saved (changed: ${changed.join(', ')})\n` : 'saved (no change)\n');
    });

  config
    .command('validate')
    .argument('[file]', 'configuration file to check (default: the one the agent uses)')
    .description('check a configuration file without the agent; prints every problem as path: message')
    .action(async (file: string | undefined) => {
      const target = file ?? ctx.paths().configFile;
      let doc: unknown;
      try {
        doc = JSON.parse(await fs.readFile(target, 'utf8'));
      } catch (err) {
        return fail(ctx, `${target}: ${err instanceof SyntaxError ? 'not valid JSON' : describeError(err)}`);
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail(ctx, `${target}: does not hold a JSON object`);
      let migrated: Record<string, unknown>;
      try {
        migrated = migrateConfig(doc as Record<string, unknown>).doc;
      } catch (err) {
        return fail(ctx, `${target}: ${describeError(err)}`);
      }
      const check = checkConfig(migrated);
      if (!check.ok) return fail(ctx, `${target} is invalid:\n${formatProblems(check.problems)}`);
      ctx.io.stdout.write(`${target}: valid\n`);
    });
}

function fail(ctx: CliContext, message: string): void {
  ctx.io.stderr.write(`praxisbox: ${message}\n`);
  ctx.exit(Exit.failure);
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

async function viaAgentOr(
  ctx: CliContext,
  configFile: string | undefined,
  command: string,
  args: unknown,
  offline: (store: ConfigStore) => Promise<unknown>,
): Promise<CommandReply> {
  const paths = ctx.paths(configFile);
  if (configFile === undefined) {
    try {
      return await callAgent(paths.controlSocket, command, args);
    } catch (err) {
      if (!(err instanceof AgentNotRunning)) throw err;
    }
  }
  // Offline: the store's own messages go to stderr; its log lines are not wanted on a terminal.
  const quiet = createLogger({ level: 'error', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const store = new ConfigStore({ file: paths.configFile, log: quiet, clock: systemClock });
  const report = await store.load();
  if (report.problem !== undefined) {
    ctx.io.stderr.write(`praxisbox: warning: ${report.problem.split('\n')[0] ?? ''}${report.keptAs ? ` (kept as ${report.keptAs})` : ''}; starting from defaults\n`);
  }
  try {
    return { status: 'ok', data: await offline(store) };
  } catch (err) {
    return { status: 'error', error: { code: isPraxisboxError(err) ? err.code : 'Internal', message: isPraxisboxError(err) ? err.message : err instanceof Error ? err.message : String(err) } };
  }
}
