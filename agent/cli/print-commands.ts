import type { Command } from 'commander';
import { runCaps, runDiscover, runPrint } from '../printing/print-cli.js';
import type { CliContext } from './main.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `praxisbox print`, `praxisbox printers discover|caps`: printing without the agent (see docs/printing.md). */
export function registerPrintCommands(program: Command, ctx: CliContext): void {
  const io = () => ({ stdout: ctx.io.stdout, stderr: ctx.io.stderr, env: ctx.io.env });
  const printerOptions = (cmd: Command): Command =>
    cmd
      .option('--pin <sha256>', 'ipps: pin the printer certificate by its SHA-256 fingerprint (repeatable)', collect)
      .option('--ca <file>', 'ipps: PEM CA the printer certificate must chain to')
      .option('--user <name>', 'HTTP Basic user; the password comes from PRAXISBOX_PRINTER_PASSWORD');

  printerOptions(
    program
      .command('print')
      .argument('<file>', 'PDF file')
      .requiredOption('--printer <uri>', 'ipp://host[:port]/path or ipps://…')
      .option('--tray <name>', 'media-source keyword (see `printers caps`)')
      .option('--size <name>', 'A4, A5, A6 or Letter (default: what the tray holds)')
      .option('--sides <sides>', 'one-sided, two-sided-long-edge, two-sided-short-edge')
      .option('--copies <n>', 'number of copies')
      .option('--color <mode>', 'auto, monochrome, color')
      .option('--wait', 'wait until the printer reports the end of the job')
      .option('--json', 'print the job as JSON')
      .description('print a PDF once, directly over IPP (no queue); prints the job state (the final one with --wait)'),
  ).action(async (file: string, opts: Record<string, unknown>) => {
    ctx.exit(await runPrint({ ...(opts as { printer: string }), file }, io()));
  });

  const printers = program.command('printers').description('find and inspect IPP printers');
  printers
    .command('discover')
    .option('--seconds <n>', 'how long to listen (default 3)')
    .option('--json', 'print the printers as JSON')
    .description('list IPP printers announced on the network (DNS-SD _ipp._tcp, _ipps._tcp)')
    .action(async (opts: { seconds?: string; json?: boolean }) => {
      ctx.exit(await runDiscover(opts, io()));
    });
  printerOptions(printers.command('caps').argument('<uri>', 'ipp://… or ipps://…').option('--json', 'print all capabilities as JSON')).description(
    'show what a printer offers: PDF, trays, paper loaded, duplex, colour, state',
  ).action(async (uri: string, opts: Record<string, unknown>) => {
    ctx.exit(await runCaps({ ...opts, printer: uri }, io()));
  });
}
