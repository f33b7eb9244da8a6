import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { resolvePaths, type Paths } from '../core/paths.js';
import { readVersion } from '../core/version.js';
import { isPraxisboxError } from '../core/errors.js';
import { registerAgentCommands } from './agent-commands.js';
import { registerConfigCommands } from './config-commands.js';
import { registerCloudSimCommands } from './cloud-sim-commands.js';
import { registerGdtCommands } from './gdt-commands.js';
import { registerPrintCommands } from './print-commands.js';
import { registerMqttCommands } from './mqtt-commands.js';
import { registerCardCommands } from './card-commands.js';
import { registerWebCommands } from './web-commands.js';

/** Exit codes of every `praxisbox` command (documented in README). */
export const Exit = {
  ok: 0,
  failure: 1,
  usage: 2,
  notRunning: 3,
} as const;

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** What each sub-command module gets: the streams, the resolved paths and the version. */
export interface CliContext {
  io: CliIo;
  version: string;
  paths: (configOverride?: string) => Paths;
  /** Sets the process exit code once the action finishes. */
  exit: (code: number) => void;
}

export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }): Promise<number> {
  let code: number = Exit.ok;
  const version = readVersion();
  const ctx: CliContext = {
    io,
    version,
    paths: (configOverride) =>
      resolvePaths({
        env: configOverride ? { ...io.env, PRAXISBOX_CONFIG: configOverride } : io.env,
        uid: process.getuid?.() ?? 1000,
        homeDir: os.homedir(),
      }),
    exit: (c) => {
      code = c;
    },
  };
  const program = new Command('praxisbox')
    .description('Praxisbox agent: card terminals, GDT devices and printers of a medical practice, linked to the cloud calendar')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerAgentCommands(program, ctx);
  registerConfigCommands(program, ctx);
  registerCloudSimCommands(program, ctx);
  registerGdtCommands(program, ctx);
  registerPrintCommands(program, ctx);
  registerMqttCommands(program, ctx);
  registerCardCommands(program, ctx);
  registerWebCommands(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return Exit.ok;
      return err.exitCode === 0 ? Exit.ok : Exit.usage;
    }
    io.stderr.write(`praxisbox: ${isPraxisboxError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    return Exit.failure;
  }
  return code;
}
