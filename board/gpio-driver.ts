import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ErrorCode, PraxisboxError } from '../agent/core/errors.js';
import type { BoardDriver, ButtonEdge, LedButtonWiring, Light } from './board.js';

/** Lines on one GPIO chip (Raspberry Pi 4: gpiochip0; Pi 5: gpiochip0 on kernels from 6.6.45, gpiochip4 before). */
export interface GpioOptions extends LedButtonWiring {
  chip: string;
}

export interface GpioDriverDeps {
  options: GpioOptions;
  /** Environment of the tools (tests put fake `gpioset`/`gpiomon` first on PATH). */
  env?: NodeJS.ProcessEnv;
  /** How long `gpiomon` must stay up at open to count as started (it fails within milliseconds). */
  settleMs?: number;
}

const firstLine = (text: string): string => text.split('\n').map((l) => l.trim()).find(Boolean)?.slice(0, 200) ?? '';

/**
 * LED and button over the GPIO character device, through Debian's `gpiod` tools (libgpiod 1.6):
 * no native module, works on Pi 4 and Pi 5 alike. A GPIO line driven over the character device
 * reverts when the requesting process exits, so every LED change replaces one long-running
 * `gpioset --mode=signal` (stopped with SIGTERM). The button is watched by one `gpiomon` printing
 * the edge type per line; it is read without `--active-low` and mapped here, because libgpiod 1.6
 * reports edges of active-low lines inverted.
 */
export class GpioDriver implements BoardDriver {
  readonly kind = 'gpio' as const;
  readonly hasBlue: boolean;
  readonly #deps: GpioDriverDeps;
  #set: ChildProcess | undefined;
  #mon: ChildProcess | undefined;
  #handlers: ((edge: ButtonEdge) => void)[] = [];
  #pressed = false;
  #ledProblem: string | undefined;
  #monitorProblem: string | undefined;
  #closing = false;
  readonly #stopped = new WeakSet<ChildProcess>();

  constructor(deps: GpioDriverDeps) {
    this.#deps = deps;
    this.hasBlue = deps.options.blue !== undefined;
  }

  async open(): Promise<void> {
    this.#closing = false;
    this.#monitorProblem = undefined;
    // Exit mode claims the lines once and reports busy/missing lines through the exit code.
    await this.#run(['--mode=exit', ...this.#ledArgs({ red: false, green: false, blue: false })]);
    await this.#startMonitor();
  }

  async setLight(light: Light): Promise<void> {
    if (this.#closing) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'GPIO board is closed');
    await stopChild(this.#set, this.#stopped);
    const child = spawn('gpioset', ['--mode=signal', ...this.#ledArgs(light)], { env: this.#env(), stdio: ['ignore', 'ignore', 'pipe'] });
    this.#set = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('exit', (code, signal) => {
      if (this.#set === child) this.#set = undefined;
      if (!this.#stopped.has(child) && !this.#closing) this.#ledProblem = `LED tool gpioset exited (${code ?? signal}): ${firstLine(stderr)}`;
    });
    await spawned(child, 'gpioset');
    this.#ledProblem = undefined;
  }

  onButton(handler: (edge: ButtonEdge) => void): void {
    this.#handlers.push(handler);
  }

  problem(): string | undefined {
    return this.#monitorProblem ?? this.#ledProblem;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.all([stopChild(this.#set, this.#stopped), stopChild(this.#mon, this.#stopped)]);
    this.#set = undefined;
    this.#mon = undefined;
    this.#handlers = [];
    // Best effort: leave the LED dark rather than in whatever state the line reverts to.
    await this.#run(['--mode=exit', ...this.#ledArgs({ red: false, green: false, blue: false })]).catch(() => undefined);
  }

  #env(): NodeJS.ProcessEnv {
    return this.#deps.env ?? process.env;
  }

  #ledArgs(light: Light): string[] {
    const o = this.#deps.options;
    const lines = [`${o.red}=${light.red ? 1 : 0}`, `${o.green}=${light.green ? 1 : 0}`];
    if (o.blue !== undefined) lines.push(`${o.blue}=${light.blue ? 1 : 0}`);
    return [...(o.activeLow ? ['--active-low'] : []), o.chip, ...lines];
  }

  #run(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile('gpioset', args, { env: this.#env(), timeout: 5_000 }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        reject(toolError('gpioset', err, stderr));
      });
    });
  }

  async #startMonitor(): Promise<void> {
    const o = this.#deps.options;
    const bias = o.buttonActiveLow ? 'pull-up' : 'pull-down';
    const child = spawn('gpiomon', ['--line-buffered', '--format=%e', `--bias=${bias}`, o.chip, String(o.button)], {
      env: this.#env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#mon = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = once(child, 'exit');
    await spawned(child, 'gpiomon');
    createInterface({ input: child.stdout! }).on('line', (line) => this.#onEdgeLine(line.trim()));
    const settled = await Promise.race([exited.then(() => 'exited' as const), delay(this.#deps.settleMs ?? 300).then(() => 'running' as const)]);
    if (settled === 'exited') {
      this.#mon = undefined;
      throw new PraxisboxError(ErrorCode.DeviceUnavailable, `gpiomon could not watch the button line ${o.button} on ${o.chip}: ${firstLine(stderr) || `exit ${child.exitCode}`}`);
    }
    child.on('exit', (code, signal) => {
      if (!this.#stopped.has(child) && !this.#closing) this.#monitorProblem = `button monitor (gpiomon) exited (${code ?? signal}): ${firstLine(stderr)}`;
    });
  }

  #onEdgeLine(line: string): void {
    if (line !== '0' && line !== '1') return;
    const high = line === '1';
    const pressed = this.#deps.options.buttonActiveLow ? !high : high;
    if (pressed === this.#pressed) return;
    this.#pressed = pressed;
    for (const h of this.#handlers) h(pressed ? 'down' : 'up');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function spawned(child: ChildProcess, tool: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(toolError(tool, err, '')));
  });
}

function toolError(tool: string, err: Error & { code?: unknown }, stderr: string): PraxisboxError {
  if (err.code === 'ENOENT') {
    return new PraxisboxError(ErrorCode.DeviceUnavailable, `${tool} not found: install the Debian package gpiod`, { cause: err });
  }
  const why = firstLine(stderr) || (typeof err.code === 'number' ? `exit ${err.code}` : 'failed');
  return new PraxisboxError(ErrorCode.DeviceUnavailable, `${tool}: ${why}`, { cause: err });
}

/** Stops a tool we started; `stopped` remembers it so its exit is not reported as a problem. */
async function stopChild(child: ChildProcess | undefined, stopped: WeakSet<ChildProcess>): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  stopped.add(child);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}
