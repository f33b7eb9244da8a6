import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

export const cliPath = path.join(repoRoot, 'bin', 'praxisbox.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `praxisbox ARGS` (the built CLI) to completion. */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(input ?? '');
  });
}

export interface RunningAgent {
  proc: ChildProcess;
  output: () => string;
  /** Resolves with the exit code after SIGTERM (or whatever ended it). */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `praxisbox start` and resolves once it logged "all modules started". */
export function startAgent(env: Record<string, string>, args: string[] = [], timeoutMs = 15_000): Promise<RunningAgent> {
  return new Promise((resolve, reject) => {
    // Port 0: every test agent's embedded broker gets its own free port. Cards off: the PC/SC tests
    // own pcscd and its virtual readers exclusively.
    const proc = spawn(process.execPath, [cliPath, 'start', ...args], { env: { ...process.env, PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0', PRAXISBOX_MODULES_DISABLED: 'cards', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`agent did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      if (out.includes('"msg":"all modules started"')) {
        clearTimeout(timer);
        resolve({
          proc,
          output: () => out,
          exited,
          stop: async (signal = 'SIGTERM') => {
            proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before it started:\n${out}`));
    });
  });
}
