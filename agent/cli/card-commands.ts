import type { Command } from 'commander';
import { runCardRead, runSimCard } from '../cards/cards-cli.js';
import type { CliContext } from './main.js';

/** `praxisbox sim card` and `praxisbox card read` (see docs/cards.md). */
export function registerCardCommands(program: Command, ctx: CliContext): void {
  const sim = program.command('sim').description('simulated hardware for trying the box without devices');
  sim
    .command('card')
    .requiredOption('--type <type>', 'egk (v5.2 GKV), egk51, pkv or kvk')
    .option('--data <file>', 'JSON description of the invented person (see docs/cards.md)')
    .option('--slot <n>', 'vpcd slot (0 or 1)', '0')
    .option('--seconds <n>', 'remove the card after this many seconds (default: on Ctrl-C)')
    .description('insert a virtual card into the virtual reader (pcscd + vsmartcard-vpcd)')
    .action(async (opts: { type: string; data?: string; slot: string; seconds?: string }) => {
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        ctx.exit(
          await runSimCard(
            { type: opts.type, slot: Number(opts.slot), ...(opts.data ? { data: opts.data } : {}), ...(opts.seconds ? { seconds: Number(opts.seconds) } : {}) },
            { stdout: ctx.io.stdout, stderr: ctx.io.stderr, signal: abort.signal },
          ),
        );
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  program
    .command('card')
    .description('card terminals')
    .command('read')
    .option('--reader <name>', 'reader name (default: the first reader with a card)')
    .option('--json', 'print the result as JSON (the card.read model)')
    .option('--wait <seconds>', 'wait this long for a card', '10')
    .description('read the card in a reader once and print the insured person and coverage')
    .action(async (opts: { reader?: string; json?: boolean; wait: string }) => {
      ctx.exit(await runCardRead({ ...(opts.reader ? { reader: opts.reader } : {}), json: opts.json === true, waitMs: Number(opts.wait) * 1000 }, { stdout: ctx.io.stdout, stderr: ctx.io.stderr }));
    });
}
