import path from 'node:path';
import type { Command } from 'commander';
import { callAgent, AgentNotRunning } from '../control/control-client.js';
import { readDeviceSecret } from '../core/identity.js';
import { readIfExists } from '../core/durable-file.js';
import { setupCode } from '../web/setup-code.js';
import { resetWebPassword } from '../web/password-reset.js';
import { Exit, type CliContext } from './main.js';

/**
 * `praxisbox setup-code` and `praxisbox web reset-password`: local tools for the person at the box.
 * Both read the data directory directly (the device secret is 0600, so only root or the agent's
 * user can run them); neither needs the agent to be running.
 */
export function registerWebCommands(program: Command, ctx: CliContext): void {
  program
    .command('setup-code')
    .description("show the box's setup code for the web UI's first run (also printed on the box label)")
    .action(async () => {
      const paths = ctx.paths();
      const secret = await readDeviceSecret(paths.secretFile);
      if (!secret) {
        ctx.io.stderr.write('praxisbox: this box has no device secret yet; start the agent once (praxisbox start)\n');
        ctx.exit(Exit.failure);
        return;
      }
      const identity = await readIfExists(paths.identityFile);
      let boxId: string;
      try {
        boxId = identity ? String((JSON.parse(identity.toString('utf8')) as { boxId?: unknown }).boxId ?? '') : '';
      } catch {
        boxId = '';
      }
      ctx.io.stdout.write(`${setupCode(secret)}\n`);
      if (boxId) ctx.io.stderr.write(`(setup code of ${boxId})\n`);
    });

  const web = program.command('web').description('the local web UI');
  web
    .command('reset-password')
    .description('remove the web admin password and end all sessions; the web UI then asks for the setup code again')
    .option('--yes', 'really reset (without it, only explains)')
    .action(async (opts: { yes?: boolean }) => {
      if (!opts.yes) {
        ctx.io.stderr.write('praxisbox: this removes the web admin password; the web UI then accepts the setup code again (praxisbox setup-code). Run with --yes to do it.\n');
        ctx.exit(Exit.usage);
        return;
      }
      const paths = ctx.paths();
      try {
        const reply = await callAgent(paths.controlSocket, 'web.reset-password', {});
        if (reply.status === 'error') {
          ctx.io.stderr.write(`praxisbox: ${reply.error.message}\n`);
          ctx.exit(Exit.failure);
          return;
        }
      } catch (err) {
        if (!(err instanceof AgentNotRunning)) throw err;
        await resetWebPassword(path.join(paths.dataDir, 'web'), Date.now());
      }
      ctx.io.stdout.write('Web password removed and all sessions ended. Open the web UI and enter the setup code (praxisbox setup-code) to set a new one.\n');
    });
}
