import { Option, type Command } from 'commander';
import { runGdtParse, runGdtWrite } from '../gdt/gdt-cli.js';
import { GDT_WRITE_CHARSETS } from '../gdt/codec/index.js';
import type { CliContext } from './main.js';

/** `praxisbox gdt parse|write`: the GDT codec from outside (see docs/gdt.md). */
export function registerGdtCommands(program: Command, ctx: CliContext): void {
  const gdt = program.command('gdt').description('read and write GDT files (device data exchange)');
  gdt
    .command('parse')
    .argument('<file>', 'GDT file')
    .option('--strict', 'rule breaks (wrong lengths, wrong 8100, …) are errors: exit 2')
    .option('--json', 'print the records as JSON (the input of `gdt write`)')
    .description('parse a GDT file: records, fields in order, detected charset, warnings')
    .action(async (file: string, opts: { strict?: boolean; json?: boolean }) => {
      ctx.exit(await runGdtParse({ file, strict: opts.strict === true, json: opts.json === true }, { stdout: ctx.io.stdout, stderr: ctx.io.stderr }));
    });
  gdt
    .command('write')
    .addOption(new Option('--charset <charset>', 'convert to this charset (and set 9206 accordingly)').choices([...GDT_WRITE_CHARSETS]))
    .description('write GDT from the JSON that `gdt parse --json` prints (stdin → stdout)')
    .action(async (opts: { charset?: (typeof GDT_WRITE_CHARSETS)[number] }) => {
      ctx.exit(await runGdtWrite(opts.charset ? { charset: opts.charset } : {}, { stdin: ctx.io.stdin, stdout: ctx.io.stdout, stderr: ctx.io.stderr }));
    });
}
