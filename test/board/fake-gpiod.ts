import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/fixtures.js';

/**
 * Stand-ins for Debian's `gpioset` and `gpiomon` (libgpiod 1.6), first on PATH in a temp dir.
 * Each call appends `tool pid args…` to calls.txt (our arguments never contain spaces). `gpioset --mode=signal` stays up until
 * SIGTERM like the real one; `gpiomon` prints whatever the test appends to events.txt (one edge per
 * line, as `--format=%e` does). Setting FAKE_GPIOSET_FAIL / FAKE_GPIOMON_FAIL in the tools'
 * environment makes them fail with the real tools' messages.
 */
export interface FakeGpiod {
  dir: string;
  env: NodeJS.ProcessEnv;
  calls(): Promise<{ tool: string; pid: number; args: string[] }[]>;
  edge(level: 0 | 1 | string): Promise<void>;
  cleanup(): Promise<void>;
}

const GPIOSET = `#!/bin/sh
echo "gpioset $$ $*" >> "$FAKE_GPIOD_DIR/calls.txt"
if [ -n "$FAKE_GPIOSET_FAIL" ]; then echo "gpioset: error setting the GPIO line values: Device or resource busy" >&2; exit 1; fi
case "$1" in --mode=signal) exec sleep 600 ;; esac
exit 0
`;

const GPIOMON = `#!/bin/sh
echo "gpiomon $$ $*" >> "$FAKE_GPIOD_DIR/calls.txt"
if [ -n "$FAKE_GPIOMON_FAIL" ]; then echo "gpiomon: error waiting for events: Device or resource busy" >&2; exit 1; fi
exec tail -n +1 -f "$FAKE_GPIOD_DIR/events.txt"
`;

export async function fakeGpiod(extraEnv: Record<string, string> = {}): Promise<FakeGpiod> {
  const { dir, cleanup } = await tempDir('praxisbox-gpiod-');
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'gpioset'), GPIOSET);
  await writeFile(path.join(bin, 'gpiomon'), GPIOMON);
  await chmod(path.join(bin, 'gpioset'), 0o755);
  await chmod(path.join(bin, 'gpiomon'), 0o755);
  await writeFile(path.join(dir, 'events.txt'), '');
  await writeFile(path.join(dir, 'calls.txt'), '');
  return {
    dir,
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, FAKE_GPIOD_DIR: dir, ...extraEnv },
    calls: async () =>
      (await readFile(path.join(dir, 'calls.txt'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [tool = '', pid = '0', ...args] = l.split(' ');
          return { tool, pid: Number(pid), args };
        }),
    edge: (level) => appendFile(path.join(dir, 'events.txt'), `${level}\n`),
    cleanup,
  };
}

/** True while a process lives (signal 0 probes without killing). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
