import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Clock, Timer } from '../core/clock.js';
import type { GdtWatchMode } from './gdt-config.js';

/**
 * Change notices for one folder. inotify (fs.watch) reports local writes at once but misses what
 * other machines write to a network share (SMB/CIFS, NFS), so there the folder is polled. `auto`
 * asks statfs which file system the folder is on. In inotify mode a slow rescan still runs, for
 * events lost to a queue overflow or a watcher that died quietly.
 */
export type EffectiveWatchMode = 'inotify' | 'polling';

// statfs f_type magic numbers (linux/magic.h) of file systems whose writes inotify does not see.
const NETWORK_FS = new Map<number, string>([
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x517b, 'smb'],
  [0x6969, 'nfs'],
  [0x65735546, 'fuse'],
  [0x01021997, 'v9fs'],
  [0x00c36400, 'ceph'],
  [0x5346414f, 'afs'],
  [0x73757245, 'coda'],
]);

export async function resolveWatchMode(dir: string, configured: GdtWatchMode): Promise<{ mode: EffectiveWatchMode; fsType?: string }> {
  if (configured !== 'auto') return { mode: configured };
  try {
    const st = await fsp.statfs(dir);
    const network = NETWORK_FS.get(Number(st.type));
    return network !== undefined ? { mode: 'polling', fsType: network } : { mode: 'inotify' };
  } catch {
    return { mode: 'polling', fsType: 'unknown' };
  }
}

export interface FolderWatchOptions {
  dir: string;
  mode: EffectiveWatchMode;
  pollIntervalMs: number;
  /** Rescan interval in inotify mode. */
  safetyScanMs: number;
  clock: Clock;
  /** A name changed (inotify). */
  onName: (name: string) => void;
  /** Look at the whole folder (poll tick, safety scan, or an event without a name). */
  onScan: () => void;
  /** The watch failed (folder deleted or unmounted). */
  onError: (err: unknown) => void;
}

export interface FolderWatch {
  stop(): void;
}

export function watchFolder(opts: FolderWatchOptions): FolderWatch {
  let stopped = false;
  let timer: Timer | undefined;
  let watcher: fs.FSWatcher | undefined;
  if (opts.mode === 'inotify') {
    watcher = fs.watch(opts.dir, { persistent: false }, (_event, name) => {
      if (stopped) return;
      if (typeof name === 'string' && name !== '') opts.onName(name);
      else opts.onScan();
    });
    watcher.on('error', (err) => {
      if (!stopped) opts.onError(err);
    });
  }
  const interval = opts.mode === 'inotify' ? opts.safetyScanMs : opts.pollIntervalMs;
  const tick = (): void => {
    if (stopped) return;
    opts.onScan();
    timer = opts.clock.setTimeout(tick, interval);
    timer.unref?.();
  };
  timer = opts.clock.setTimeout(tick, interval);
  timer.unref?.();
  return {
    stop: () => {
      stopped = true;
      watcher?.close();
      if (timer !== undefined) opts.clock.clearTimeout(timer);
    },
  };
}
