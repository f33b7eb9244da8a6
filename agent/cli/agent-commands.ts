import type { Command } from 'commander';
import { Agent } from '../main.js';
import { callAgent, AgentNotRunning } from '../control/control-client.js';
import type { AgentStatus } from '../core/system-module.js';
import { Exit, type CliContext } from './main.js';
import { formatStatus } from './status-format.js';
import { createServiceNotifier } from '../systemd/service-notifier.js';

/** Bound for a clean stop on SIGTERM/SIGINT; systemd's TimeoutStopSec is set above it. */
export const STOP_TIMEOUT_MS = 10_000;

export function registerAgentCommands(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('run the agent in the foreground (logs as JSON lines on stdout); stops cleanly on SIGTERM/SIGINT')
    .option('-c, --config <file>', 'configuration file (default: config.json in the data directory)')
    .action(async (opts: { config?: string }) => {
      ctx.exit(await runAgent(ctx, opts.config));
    });

  program
    .command('status')
    .description("show the running agent's health, modules and outbox depth")
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const paths = ctx.paths();
      try {
        const reply = await callAgent(paths.controlSocket, 'status', {});
        if (reply.status === 'error') {
          ctx.io.stderr.write(`praxisbox: ${reply.error.message}\n`);
          ctx.exit(Exit.failure);
          return;
        }
        const status = reply.data as AgentStatus;
        ctx.io.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
        ctx.exit(status.health === 'fault' ? Exit.failure : Exit.ok);
      } catch (err) {
        if (err instanceof AgentNotRunning) {
          ctx.io.stderr.write(`praxisbox: ${err.message}\n`);
          ctx.exit(Exit.notRunning);
          return;
        }
        throw err;
      }
    });
}

/** Exit code after an update asked for a restart: non-zero, so that systemd's Restart=on-failure starts `current` again. */
export const RESTART_EXIT_CODE = 75;

async function runAgent(ctx: CliContext, configFile?: string): Promise<number> {
  let restartRequested: (reason: string) => void = () => undefined;
  // Work that must wait until every module has stopped (a factory reset deletes files the modules write while stopping).
  let afterStop: (() => Promise<void>) | undefined;
  const agent = await Agent.create({
    requestRestart: (reason, then) => {
      afterStop = then;
      restartRequested(reason);
    },
    paths: ctx.paths(configFile),
    version: ctx.version,
    env: ctx.io.env,
    ...(ctx.io.env['PRAXISBOX_LOG_LEVEL'] ? { logLevel: ctx.io.env['PRAXISBOX_LOG_LEVEL'] } : {}),
  });
  const log = agent.deps.log;
  const onFatal = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: the agent exits so its service manager restarts it`);
    log.flush();
    process.exit(70);
  };
  process.on('uncaughtException', onFatal('uncaught exception'));
  process.on('unhandledRejection', onFatal('unhandled promise rejection'));

  const stopRequested = new Promise<string>((resolve) => {
    restartRequested = (reason) => resolve(`restart (${reason})`);
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // systemd (Type=notify): READY=1 after every module started or reported unavailable, the
  // watchdog fed from the supervisor's health; inactive without NOTIFY_SOCKET.
  const notifier = createServiceNotifier({ env: ctx.io.env, health: () => agent.supervisor.snapshot(), clock: agent.deps.clock, log: log.child({ module: 'systemd' }), pid: process.pid });
  await agent.start();
  await notifier.ready();
  const signal = await stopRequested;
  log.info({ signal }, `${signal} received: stopping`);
  // A module that ignores its stop bound must not keep the process alive forever.
  setTimeout(() => {
    log.error('stop did not finish in time: exiting anyway');
    log.flush();
    process.exit(1);
  }, STOP_TIMEOUT_MS + 2_000).unref();
  const [{ timedOut }] = await Promise.all([agent.stop(STOP_TIMEOUT_MS), notifier.stopping()]);
  if (afterStop) await afterStop().catch((err: unknown) => log.error({ err }, 'cleanup before the restart failed'));
  log.flush();
  if (signal.startsWith('restart')) return RESTART_EXIT_CODE;
  return timedOut.length > 0 ? Exit.failure : Exit.ok;
}
