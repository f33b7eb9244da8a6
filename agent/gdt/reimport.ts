import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ErrorCode, PraxisboxError, invalidInput } from '../core/errors.js';
import { parseGdt, viewRecord } from './codec/index.js';
import type { DeviceLayout } from './device-layout.js';
import { moveFile } from './file-moves.js';
import type { HashRegistry } from './hash-registry.js';
import { mapAttachmentPath } from './path-mapping.js';

/**
 * `gdt.reimport`: a file from archive/ (or quarantine/) goes back into the result folder and is
 * taken in again — a new event, flagged `reimport`. Its hash is forgotten first (durably), then the
 * archived attachments go back where 6305 says, then the file: a crash in between leaves files in
 * archive/ and the command can simply be repeated.
 */
export interface ReimportDeps {
  deviceId: string;
  layout: DeviceLayout;
  registry: HashRegistry;
  markReimport: (name: string) => void;
  touch: (name: string) => void;
}

export interface ReimportResult {
  deviceId: string;
  from: 'archive' | 'quarantine';
  file: string;
  attachments: number;
}

export function checkArchiveName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0') || path.basename(name) !== name) {
    throw invalidInput('archiveFile must be a file name in archive/ or quarantine/, without folders');
  }
  if (name.endsWith('.reason.txt')) throw invalidInput('archiveFile names a reason file; give the quarantined file itself');
}

/** Where `name` is kept for this device, if anywhere. */
export async function locateArchived(layout: DeviceLayout, name: string): Promise<'archive' | 'quarantine' | undefined> {
  for (const [from, dir] of [['archive', layout.archiveDir], ['quarantine', layout.quarantineDir]] as const) {
    try {
      const st = await fs.lstat(path.join(dir, name));
      if (st.isFile()) return from;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function reimportFile(deps: ReimportDeps, name: string, from: 'archive' | 'quarantine'): Promise<ReimportResult> {
  const { layout, registry } = deps;
  const dir = from === 'archive' ? layout.archiveDir : layout.quarantineDir;
  const source = path.join(dir, name);
  const target = path.join(layout.resultDir, name);
  if (await present(target)) throw new PraxisboxError(ErrorCode.CommandRejected, 'a file of that name is already waiting in the result folder');
  const bytes = await fs.readFile(source);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await registry.remove(`${deps.deviceId}/${sha256}`);
  let attachments = 0;
  if (from === 'archive') attachments = await restoreAttachments(layout, name, bytes);
  else await fs.rm(path.join(dir, `${name}.reason.txt`), { force: true });
  deps.markReimport(name);
  await moveFile(source, target);
  deps.touch(name);
  return { deviceId: deps.deviceId, from, file: name, attachments };
}

/** Archived attachments are `<stamp>-<hash>-a<N>-<name>`; the N-th 6305 of the file says where each came from. */
async function restoreAttachments(layout: DeviceLayout, name: string, bytes: Buffer): Promise<number> {
  const prefix = name.split('-').slice(0, 2).join('-');
  const archived = (await fs.readdir(layout.archiveDir)).filter((n) => n.startsWith(`${prefix}-a`));
  if (archived.length === 0) return 0;
  let paths: string[];
  try {
    const parse = parseGdt(bytes);
    paths = parse.records.flatMap((r) => {
      const view = viewRecord(r);
      return view.kind === 'results' || view.kind === 'show-results' ? view.examination.attachments.filter((a) => a.path !== undefined).map((a) => a.path as string) : [];
    });
  } catch {
    return 0;
  }
  let restored = 0;
  for (const file of archived) {
    const m = /^.+?-.+?-a(\d+)-/.exec(file);
    const raw = m === null ? undefined : paths[Number(m[1]) - 1];
    if (raw === undefined) continue;
    const mapped = mapAttachmentPath(raw, layout);
    if (!mapped.ok || (await present(mapped.localPath))) continue;
    await moveFile(path.join(layout.archiveDir, file), mapped.localPath);
    restored += 1;
  }
  return restored;
}

async function present(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}
