import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DeviceLayout } from './device-layout.js';

/**
 * Are a device's folders usable? Each problem is one plain sentence naming the folder (configuration,
 * not patient data). Folders inside the GDT root belong to the box and are created; any other folder
 * (a mounted share) must exist — creating it would hide a missing mount behind an empty local folder
 * the device never sees.
 */
export async function checkDeviceFolders(layout: DeviceLayout, options: { create?: boolean } = {}): Promise<{ problems: string[]; notes: string[] }> {
  const create = options.create ?? true;
  const problems: string[] = [];
  const notes: string[] = [];
  const check = async (what: string, dir: string, managed: boolean): Promise<void> => {
    if (!create && managed && !(await exists(dir))) {
      notes.push(`${what} ${dir} will be created`);
      return;
    }
    const problem = await usableFolder(dir, managed);
    if (problem !== undefined) problems.push(`${what} ${dir} ${problem}`);
  };
  await check('order folder', layout.orderDir, layout.orderDirManaged);
  if (layout.resultDir !== layout.orderDir) await check('result folder', layout.resultDir, layout.resultDirManaged);
  if (problems.length === 0 && create) {
    for (const dir of [layout.archiveDir, layout.quarantineDir]) {
      try {
        await fs.mkdir(dir, { recursive: true });
      } catch (err) {
        problems.push(`${path.basename(dir)} folder ${dir} cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  for (const m of layout.mappings) {
    try {
      const st = await fs.stat(m.localDir);
      if (!st.isDirectory()) notes.push(`path mapping target ${m.localDir} is not a folder`);
    } catch {
      notes.push(`path mapping target ${m.localDir} does not exist: its attachments will be reported missing`);
    }
  }
  return { problems, notes };
}

async function usableFolder(dir: string, managed: boolean): Promise<string | undefined> {
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) return 'is not a folder';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `cannot be read (${code ?? 'error'})`;
    if (!managed) return 'does not exist (is the share mounted?)';
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o775 });
    } catch (mkErr) {
      return `does not exist and cannot be created (${(mkErr as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  }
  // access() answers for the process's uid and is wrong for root and for some shares; a real
  // create-and-delete is the only test that holds.
  const probe = path.join(dir, `.praxisbox-probe-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } catch (err) {
    return `is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    await fs.readdir(dir);
  } catch (err) {
    return `cannot be listed (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return undefined;
}

async function exists(dir: string): Promise<boolean> {
  try {
    await fs.stat(dir);
    return true;
  } catch {
    return false;
  }
}
