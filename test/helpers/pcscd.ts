import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPcscDriver } from '../../agent/cards/driver.js';

/**
 * pcscd with Debian's vpcd virtual reader, for tests that read virtual cards through real PC/SC.
 *
 * pcscd cannot be isolated per test: its socket path (/run/pcscd/pcscd.comm) is compiled in and vpcd
 * listens on fixed ports (35963 for slot 0, 35964 for slot 1, from /etc/reader.conf.d/vpcd). Test
 * files that use it therefore serialise on an exclusive `flock` of one lock file: the lock is held by
 * a `flock … cat` child whose stdin we keep open, so it is released when we close stdin at the end of
 * the file — or when the test process dies, because the pipe closes then too. tap runs files in
 * parallel, so a second pcscd file simply waits (its tap timeout includes the wait: keep these files
 * short). pcscd itself gets the same dead-man switch: a watcher shell kills it when our stdin closes.
 */
export const VPCD_READERS = ['Virtual PCD 00 00', 'Virtual PCD 00 01'] as const;

const LOCK_FILE = path.join(os.tmpdir(), 'praxisbox-pcscd.lock');
const PID_FILE = '/run/pcscd/pcscd.pid';

export interface TapLike {
  teardown(fn: () => unknown): void;
}

async function holdLock(timeoutMs: number): Promise<() => Promise<void>> {
  const child = spawn('flock', ['-x', LOCK_FILE, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pcscd lock not acquired within ${timeoutMs} ms (another test holds ${LOCK_FILE})`)), timeoutMs);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`flock exited with ${code}`));
    });
  });
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.end();
    await exited;
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Pcscd {
  #proc: ChildProcess | undefined;
  #watcher: ChildProcess | undefined;
  readonly #lines: string[] = [];
  starts = 0;

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** The last lines pcscd printed (APDU log of `-a`: invented test persons only). */
  log(): string[] {
    return [...this.#lines];
  }

  async start(): Promise<void> {
    if (existsSync(PID_FILE)) {
      const other = Number(readFileSync(PID_FILE, 'utf8').trim());
      if (Number.isInteger(other) && other > 0 && alive(other) && other !== this.#proc?.pid) {
        throw new Error(`a pcscd not started by this test runs (pid ${other}); stop it first (it owns /run/pcscd)`);
      }
    }
    const proc = spawn('pcscd', ['-f', '-a'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    this.starts += 1;
    const keep = (chunk: Buffer): void => {
      this.#lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.#lines.length > 400) this.#lines.splice(0, this.#lines.length - 400);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.#watcher = spawn('sh', ['-c', `cat >/dev/null; kill -9 ${proc.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
    await this.#ready(proc);
  }

  async #ready(proc: ChildProcess): Promise<void> {
    const driver = createPcscDriver();
    const deadline = Date.now() + 10_000;
    let last = 'not started';
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`pcscd exited with ${proc.exitCode}: ${this.#lines.slice(-5).join(' | ')}`);
      try {
        const ctx = await driver.establish();
        const names = ctx.readers().map((r) => r.name);
        ctx.close();
        if (VPCD_READERS.every((n) => names.includes(n))) return;
        last = `readers: ${names.join(', ') || 'none'}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`pcscd not ready within 10 s (${last})`);
  }

  async #exit(signal: NodeJS.Signals): Promise<void> {
    const proc = this.#proc;
    const watcher = this.#watcher;
    this.#proc = undefined;
    this.#watcher = undefined;
    watcher?.kill('SIGKILL');
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** Graceful stop (SIGTERM). */
  stop(): Promise<void> {
    return this.#exit('SIGTERM');
  }

  /** A crash: SIGKILL, sockets and pid file left behind like after a real crash. */
  kill(): Promise<void> {
    return this.#exit('SIGKILL');
  }
}

/**
 * Takes the pcscd lock (waiting for other test files), starts pcscd and registers teardown that stops
 * it and releases the lock. Call once per test file, at the top.
 */
export async function startPcscd(t: TapLike, options: { lockTimeoutMs?: number } = {}): Promise<Pcscd> {
  const release = await holdLock(options.lockTimeoutMs ?? 180_000);
  const pcscd = new Pcscd();
  t.teardown(async () => {
    await pcscd.stop();
    await release();
  });
  await pcscd.start();
  return pcscd;
}
