import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Paths } from '../core/paths.js';

export type ResetPaths = Pick<Paths, 'dataDir' | 'configFile' | 'cloudDir' | 'identityFile' | 'secretFile' | 'outboxDir'>;

/**
 * What a factory reset removes and what it keeps.
 *
 * Removed — everything that ties the box to a practice's settings and cloud account:
 * the configuration file with its migration backups and rejected copies, the cloud directory
 * (pairing credentials, link state, command journals) and the web UI's users and sessions
 * (`<data>/web`).
 *
 * Kept — the box's identity and device secret (printed on the label: the setup code derives from
 * them, so a reset box pairs again with the same label), and the outbox: undelivered events are
 * never thrown away; they are delivered once the box is paired again. Device state (GDT folders'
 * progress, print queue, spool) is kept too: it describes work in flight, not settings.
 */
export function resetPlan(p: ResetPaths): { remove: string[]; keep: string[] } {
  return {
    remove: [p.configFile, p.cloudDir, path.join(p.dataDir, 'web')],
    keep: [p.identityFile, p.secretFile, p.outboxDir],
  };
}

/** Deletes the plan's targets (and the config file's backups); returns what existed, relative to the data dir. */
export async function factoryReset(p: ResetPaths): Promise<{ removed: string[]; kept: string[] }> {
  const { remove, keep } = resetPlan(p);
  const configDir = path.dirname(p.configFile);
  const base = path.basename(p.configFile);
  const backups = (await readdir(configDir).catch(() => [] as string[]))
    .filter((name) => name.startsWith(`${base}.`) && (/\.v\d+\.bak$/.test(name) || name.startsWith(`${base}.rejected-`)))
    .map((name) => path.join(configDir, name));
  const removed: string[] = [];
  for (const target of [...remove, ...backups]) {
    const existed = await rm(target, { recursive: true, force: false }).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    if (existed) removed.push(relative(p.dataDir, target));
  }
  return { removed, kept: keep.map((k) => relative(p.dataDir, k)) };
}

const relative = (dataDir: string, target: string): string => {
  const r = path.relative(dataDir, target);
  return r.startsWith('..') ? path.basename(target) : r;
};
