import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { callAgent, AgentNotRunning } from '../control/control-client.js';
import { Exit, type CliContext } from './main.js';
import { generateReleaseKey, parseSignedManifest } from '../update/release-manifest.js';
import { packRelease } from '../update/release-pack.js';

/** Bytes per `update.upload` call: base64 of it stays below the control socket's 1 MiB body limit. */
const PIECE_BYTES = 512 * 1024;
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** `praxisbox release keygen|pack` (vendor side) and `praxisbox update apply|status` (on the box, through the running agent). */
export function registerUpdateCommands(program: Command, ctx: CliContext): void {
  const release = program.command('release').description('make signed release tarballs (vendor side)');
  release
    .command('keygen')
    .description('create an Ed25519 release key: ID.key (private, keep offline) and ID.pub.json (a keyring entry)')
    .requiredOption('--id <id>', 'key id, e.g. praxisbox-2027-1')
    .requiredOption('--out <dir>', 'directory for the two files')
    .action(async (opts: { id: string; out: string }) => {
      const { privateKeyPem, trusted } = generateReleaseKey(opts.id);
      await fs.mkdir(opts.out, { recursive: true });
      await fs.writeFile(path.join(opts.out, `${opts.id}.key`), privateKeyPem, { mode: 0o600, flag: 'wx' });
      await fs.writeFile(path.join(opts.out, `${opts.id}.pub.json`), `${JSON.stringify(trusted, null, 2)}\n`, { flag: 'wx' });
      ctx.io.stdout.write(`${JSON.stringify(trusted)}\n`);
    });
  release
    .command('pack')
    .description('pack a built app tree into praxisbox-VERSION.tar.gz and sign its manifest (…tar.gz.sig.json)')
    .requiredOption('--key <file>', 'private key from `release keygen` (ID.key)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--key-id <id>', 'key id (default: the key file name without .key)')
    .option('--from <dir>', 'app tree with bin/, dist/, node_modules/, package.json (default: this installation)')
    .option('--min-version <version>', 'boxes must run at least this version to install the release')
    .action(async (opts: { key: string; out: string; keyId?: string; from?: string; minVersion?: string }) => {
      const result = await packRelease({
        from: opts.from ?? packageRoot,
        outDir: opts.out,
        privateKeyPem: await fs.readFile(opts.key, 'utf8'),
        keyId: opts.keyId ?? path.basename(opts.key).replace(/\.key$/, ''),
        ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
      });
      ctx.io.stdout.write(`${result.tarball}\n${result.sigFile}\n`);
    });

  const update = program.command('update').description('install a signed release on this box');
  update
    .command('apply')
    .argument('<file>', 'release tarball (praxisbox-VERSION.tar.gz)')
    .requiredOption('--sig <file>', 'its signed manifest (…tar.gz.sig.json)')
    .option('--allow-downgrade', 'install an older version (needs update.allowDowngrade too)')
    .description('hand a release to the running agent: verified, unpacked, switched, restarted, committed once healthy')
    .action(async (file: string, opts: { sig: string; allowDowngrade?: boolean }) => {
      const sig = parseSignedManifest(await fs.readFile(opts.sig, 'utf8'));
      const bytes = await fs.readFile(file);
      const socket = ctx.paths().controlSocket;
      const uploadId = randomBytes(12).toString('base64url');
      await guarded(ctx, async () => {
        for (let offset = 0; offset < bytes.length; offset += PIECE_BYTES) {
          const reply = await callAgent(socket, 'update.upload', { upload: uploadId, offset, data: bytes.subarray(offset, offset + PIECE_BYTES).toString('base64') }, 30_000);
          if (reply.status === 'error') return fail(ctx, reply.error.message);
        }
        const reply = await callAgent(socket, 'update.apply', { version: sig.version, sig, upload: uploadId, ...(opts.allowDowngrade ? { allowDowngrade: true } : {}) }, 10 * 60_000);
        if (reply.status === 'error') return fail(ctx, reply.error.message);
        const data = reply.data as { outcome: string; to?: string; reason?: string };
        ctx.io.stdout.write(data.outcome === 'switched' ? `switched to ${data.to}; the agent restarts and commits once healthy (praxisbox update status)\n` : `nothing to do: ${data.reason}\n`);
      });
    });
  update
    .command('status')
    .option('--json', 'print as JSON')
    .description('running version, releases on the box and the last update')
    .action(async (opts: { json?: boolean }) => {
      await guarded(ctx, async () => {
        const reply = await callAgent(ctx.paths().controlSocket, 'update.status', {});
        if (reply.status === 'error') return fail(ctx, reply.error.message);
        const s = reply.data as { version: string; current: string | null; releases: string[]; lastUpdate: { from: string; to: string; stage: string; reason?: string } | null };
        if (opts.json) return void ctx.io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        const last = s.lastUpdate ? `${s.lastUpdate.from} → ${s.lastUpdate.to}: ${s.lastUpdate.stage}${s.lastUpdate.reason ? ` (${s.lastUpdate.reason})` : ''}` : 'none';
        ctx.io.stdout.write(`running:     ${s.version}\ncurrent:     ${s.current ?? '-'}\nreleases:    ${s.releases.join(', ') || '-'}\nlast update: ${last}\n`);
      });
    });
}

function fail(ctx: CliContext, message: string): void {
  ctx.io.stderr.write(`praxisbox: ${message}\n`);
  ctx.exit(Exit.failure);
}

async function guarded(ctx: CliContext, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof AgentNotRunning) {
      ctx.io.stderr.write(`praxisbox: ${err.message}\n`);
      return ctx.exit(Exit.notRunning);
    }
    throw err;
  }
}
