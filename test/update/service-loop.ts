import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { childEnv, runGuard } from './release-fixture.js';

export interface ServiceRun {
  /** The release `current` pointed to when this start began. */
  release: string;
  code: number | null;
}

/**
 * What systemd does for the unit of docs/appliance-layout.md, reduced to what updates rely on:
 * ExecStartPre runs the guard, ExecStart runs `current/bin/praxisbox.js start`, and
 * Restart=on-failure starts it again after a non-zero exit (75 = restart requested by an update).
 */
export class ServiceLoop {
  readonly runs: ServiceRun[] = [];
  readonly output: string[] = [];
  #proc: ChildProcess | undefined;
  #stopping = false;
  #done: Promise<void>;

  constructor(appDir: string, env: Record<string, string>, maxStarts = 8) {
    this.#done = (async () => {
      while (!this.#stopping && this.runs.length < maxStarts) {
        await runGuard(appDir, env['PRAXISBOX_DATA_DIR'] as string);
        if (this.#stopping) return;
        const release = path.basename(await fs.readlink(path.join(appDir, 'current')));
        const proc = spawn(process.execPath, [path.join(appDir, 'current', 'bin', 'praxisbox.js'), 'start'], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
        this.#proc = proc;
        proc.stdout?.on('data', (c: Buffer) => this.output.push(c.toString()));
        proc.stderr?.on('data', (c: Buffer) => this.output.push(c.toString()));
        const code = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)));
        this.runs.push({ release, code });
        if (code === 0 || code === null) return;
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#proc?.kill('SIGTERM');
    await this.#done;
  }
}
