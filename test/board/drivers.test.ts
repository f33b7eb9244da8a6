import t from 'tap';
import { createRequire } from 'node:module';
import type { Light } from '../../board/board.js';
import { NoopDriver } from '../../board/noop-driver.js';
import { GpioDriver, type GpioOptions } from '../../board/gpio-driver.js';
import { FirmataDriver, type FirmataIo, type FirmataOptions } from '../../board/firmata-driver.js';
import { driverContract, eventually, type DriverProbe } from './driver-contract.js';
import { fakeGpiod, alive } from './fake-gpiod.js';
import { fakeFirmataPanel, type FakePanel } from './fake-firmata-panel.js';

const OFF: Light = { red: false, green: false, blue: false };

export const GPIO: GpioOptions = { chip: 'gpiochip0', red: 17, green: 27, blue: 22, button: 23, activeLow: false, buttonActiveLow: true };

/** LED state from the newest gpioset call (the live `--mode=signal` one, or close's final `--mode=exit`). */
export function litFromArgs(args: string[], o: GpioOptions): Light {
  const value = (line: number | undefined): boolean => {
    if (line === undefined) return false;
    const a = args.find((x) => x.startsWith(`${line}=`));
    // Logical values: with --active-low libgpiod inverts the physical level itself.
    return a?.endsWith('=1') ?? false;
  };
  return { red: value(o.red), green: value(o.green), blue: value(o.blue) };
}

export async function gpioProbe(options: GpioOptions = GPIO): Promise<DriverProbe & { fake: Awaited<ReturnType<typeof fakeGpiod>> }> {
  const fake = await fakeGpiod();
  const driver = new GpioDriver({ options, env: fake.env, settleMs: 100 });
  return {
    fake,
    driver,
    lit: async () => {
      const sets = (await fake.calls()).filter((c) => c.tool === 'gpioset');
      const last = sets.at(-1);
      return last ? litFromArgs(last.args, options) : OFF;
    },
    // Button to ground with pull-up: pressed = line low = falling edge (0).
    button: async (edge) => fake.edge(edge === 'down' ? (options.buttonActiveLow ? 0 : 1) : options.buttonActiveLow ? 1 : 0),
    cleanup: async () => {
      await driver.close();
      await fake.cleanup();
    },
  };
}

const require = createRequire(import.meta.url);
const mock = require('mock-firmata') as { Firmata: new (opts?: Record<string, unknown>) => FirmataIo & Record<string, unknown> };

export const PANEL: FirmataOptions = { port: '/dev/ttyACM-test', red: 9, green: 10, blue: 11, button: 2, activeLow: false, buttonActiveLow: true };

/** A mock-firmata IO that records every pin write and hands the button's digitalRead callback to the test. */
export function mockIo() {
  const io = new mock.Firmata();
  const writes: [number, number][] = [];
  const modes: [number, number][] = [];
  const readers = new Map<number, (v: number) => void>();
  Object.assign(io, {
    digitalWrite: (pin: number, value: number) => void writes.push([pin, value]),
    pinMode: (pin: number, mode: number) => void modes.push([pin, mode]),
    digitalRead: (pin: number, cb: (v: number) => void) => void readers.set(pin, cb),
  });
  return { io, writes, modes, readers };
}

export async function firmataProbe(options: FirmataOptions = PANEL): Promise<DriverProbe & { m: ReturnType<typeof mockIo> }> {
  const m = mockIo();
  const driver = new FirmataDriver({
    options,
    io: async () => {
      setImmediate(() => {
        m.io.emit('connect');
        m.io.emit('ready');
      });
      return m.io;
    },
  });
  const level = (pin: number | undefined): boolean => {
    if (pin === undefined) return false;
    const last = m.writes.filter(([p]) => p === pin).at(-1);
    return last !== undefined && (last[1] === 1) !== options.activeLow;
  };
  return {
    m,
    driver,
    lit: async () => ({ red: level(options.red), green: level(options.green), blue: level(options.blue) }),
    button: async (edge) => {
      const read = m.readers.get(options.button);
      if (!read) throw new Error('johnny-five did not subscribe to the button pin');
      const high = edge === 'down' ? !options.buttonActiveLow : options.buttonActiveLow;
      read(high ? 1 : 0);
      // johnny-five debounces button reads by 7 ms.
      await new Promise((r) => setTimeout(r, 25));
    },
    cleanup: () => driver.close(),
  };
}

/** The whole serial path: stty, the tty read by cat, firmata-io's handshake, johnny-five — on a pty. */
export async function ptyProbe(options: Omit<FirmataOptions, 'port'> = PANEL): Promise<DriverProbe & { panel: FakePanel }> {
  const panel = await fakeFirmataPanel();
  const o = { ...options, port: panel.tty };
  const driver = new FirmataDriver({ options: o, readyTimeoutMs: 8_000 });
  const level = (pin: number | undefined): boolean => pin !== undefined && (panel.level(pin) ?? o.activeLow) !== o.activeLow;
  return {
    panel,
    driver,
    lit: async () => ({ red: level(o.red), green: level(o.green), blue: level(o.blue) }),
    button: async (edge) => {
      panel.setInput(o.button, edge === 'down' ? !o.buttonActiveLow : o.buttonActiveLow);
      await new Promise((r) => setTimeout(r, 40));
    },
    cleanup: async () => {
      await driver.close();
      await panel.stop();
    },
  };
}

driverContract(t, 'noop', async () => {
  const driver = new NoopDriver();
  return { driver, lit: async () => driver.light() ?? OFF, cleanup: () => driver.close() };
});
driverContract(t, 'gpio (fake gpiod tools)', () => gpioProbe());
driverContract(t, 'gpio red/green, active-low LEDs, button to 3.3 V', () => gpioProbe({ ...GPIO, blue: undefined, activeLow: true, buttonActiveLow: false }));
driverContract(t, 'firmata (mock-firmata)', () => firmataProbe());
driverContract(t, 'firmata red/green, active-low LEDs', () => firmataProbe({ ...PANEL, blue: undefined, activeLow: true }));
driverContract(t, 'firmata over a pty (fake StandardFirmata, real firmata-io)', () => ptyProbe());

t.test('gpio: exact tool arguments, one gpioset alive at a time', async (t) => {
  const p = await gpioProbe();
  t.teardown(() => p.cleanup());
  await p.driver.open();
  const signalCalls = async () => (await p.fake.calls()).filter((x) => x.args[0] === '--mode=signal');
  for (let i = 0; i < 6; i++) {
    await p.driver.setLight({ red: i % 2 === 0, green: true, blue: false });
    // The fake records itself once started; a holder stopped before that would leave no trace.
    await eventually(`LED change ${i}`, signalCalls, (c) => c.length === i + 1);
  }
  const calls = await p.fake.calls();
  t.same(calls[0]?.args, ['--mode=exit', 'gpiochip0', '17=0', '27=0', '22=0'], 'open claims the LED lines once');
  t.same(calls.find((c) => c.tool === 'gpiomon')?.args, ['--line-buffered', '--format=%e', '--bias=pull-up', 'gpiochip0', '23']);
  const signal = calls.filter((c) => c.tool === 'gpioset' && c.args[0] === '--mode=signal');
  t.equal(signal.length, 6);
  t.same(signal.at(-1)?.args, ['--mode=signal', 'gpiochip0', '17=0', '27=1', '22=0']);
  t.same(signal.map((c) => alive(c.pid)), [false, false, false, false, false, true], 'each change stops the previous holder');
});

t.test('gpio: active-low LEDs and a pull-down button', async (t) => {
  const p = await gpioProbe({ ...GPIO, activeLow: true, buttonActiveLow: false, blue: undefined });
  t.teardown(() => p.cleanup());
  await p.driver.open();
  await p.driver.setLight({ red: true, green: false, blue: true });
  const calls = await eventually('LED change', () => p.fake.calls(), (c) => c.some((x) => x.args[0] === '--mode=signal'));
  t.same(calls.at(-1)?.args, ['--mode=signal', '--active-low', 'gpiochip0', '17=1', '27=0'], 'libgpiod inverts; no blue line');
  t.ok(calls.some((c) => c.tool === 'gpiomon' && c.args.includes('--bias=pull-down') && !c.args.includes('--active-low')));
});

t.test('gpio: duplicate edges and noise lines are ignored', async (t) => {
  const p = await gpioProbe();
  t.teardown(() => p.cleanup());
  await p.driver.open();
  const edges: string[] = [];
  p.driver.onButton((e) => edges.push(e));
  for (const line of ['1', '0', '0', 'garbage', '1', '1', '0']) await p.fake.edge(line);
  await new Promise((r) => setTimeout(r, 300));
  t.same(edges, ['down', 'up', 'down']);
});

t.test('gpio: missing tools, busy lines and a dying monitor are reported plainly', async (t) => {
  const missing = new GpioDriver({ options: GPIO, env: { PATH: '/nonexistent' } });
  await t.rejects(missing.open(), { code: 'DeviceUnavailable', message: 'gpioset not found: install the Debian package gpiod' });

  const busy = await fakeGpiod({ FAKE_GPIOSET_FAIL: '1' });
  t.teardown(() => busy.cleanup());
  await t.rejects(new GpioDriver({ options: GPIO, env: busy.env }).open(), { code: 'DeviceUnavailable', message: /^gpioset: gpioset: error setting the GPIO line values: Device or resource busy$/ });

  const monBusy = await fakeGpiod({ FAKE_GPIOMON_FAIL: '1' });
  t.teardown(() => monBusy.cleanup());
  await t.rejects(new GpioDriver({ options: GPIO, env: monBusy.env, settleMs: 2_000 }).open(), {
    code: 'DeviceUnavailable',
    message: /gpiomon could not watch the button line 23 on gpiochip0: gpiomon: error waiting for events: Device or resource busy/,
  });

  const p = await gpioProbe();
  t.teardown(() => p.cleanup());
  await p.driver.open();
  const mon = (await eventually('gpiomon', () => p.fake.calls(), (c) => c.some((x) => x.tool === 'gpiomon'))).find((c) => c.tool === 'gpiomon');
  process.kill(mon!.pid, 'SIGKILL');
  const problem = await eventually('problem', () => p.driver.problem(), (v) => v !== undefined);
  t.match(problem, /^button monitor \(gpiomon\) exited \(SIGKILL\)/);
});

t.test('gpio: a gpioset that dies after starting shows up as a problem', async (t) => {
  const p = await gpioProbe();
  t.teardown(() => p.cleanup());
  await p.driver.open();
  await p.driver.setLight({ red: true, green: false, blue: false });
  const holder = (await eventually('holder', () => p.fake.calls(), (c) => c.some((x) => x.args[0] === '--mode=signal'))).filter((c) => c.tool === 'gpioset').at(-1)!;
  process.kill(holder.pid, 'SIGKILL');
  t.match(await eventually('problem', () => p.driver.problem(), (v) => v !== undefined), /^LED tool gpioset exited \(SIGKILL\)/);
  await p.driver.setLight({ red: false, green: true, blue: false });
  t.equal(p.driver.problem(), undefined, 'a working gpioset clears it');
});

t.test('firmata: pins are digital outputs, the button an input with pull-up', async (t) => {
  const p = await firmataProbe();
  t.teardown(() => p.cleanup());
  await p.driver.open();
  await p.driver.setLight({ red: true, green: false, blue: true });
  t.same(p.m.writes.slice(-3), [[9, 1], [10, 0], [11, 1]], 'one digitalWrite per channel');
  t.ok(p.m.modes.some(([pin, mode]) => pin === 9 && mode === 1), 'red pin set to OUTPUT');
  t.ok(p.m.readers.has(2), 'button pin is read');
});

t.test('firmata: a panel that never answers fails open with a plain reason', async (t) => {
  const m = mockIo();
  const driver = new FirmataDriver({ options: PANEL, io: async () => m.io, readyTimeoutMs: 100 });
  await t.rejects(driver.open(), { code: 'DeviceUnavailable', message: 'Firmata panel on /dev/ttyACM-test did not answer (no Firmata handshake within 100 ms)' });
  await driver.close();
});

t.test('firmata: a port that is not a serial device is refused before johnny-five talks to it', async (t) => {
  const driver = new FirmataDriver({ options: { ...PANEL, port: '/dev/null' }, readyTimeoutMs: 500 });
  await t.rejects(driver.open(), { code: 'DeviceUnavailable', message: /^serial port \/dev\/null cannot be configured: / });
  const missing = new FirmataDriver({ options: { ...PANEL, port: '/dev/praxisbox-no-such-tty' } });
  await t.rejects(missing.open(), { code: 'DeviceUnavailable', message: /^serial port \/dev\/praxisbox-no-such-tty cannot be configured: / });
});

t.test('gpio: every argument list parses with the real gpiod 1.6 tools', async (t) => {
  const { existsSync } = await import('node:fs');
  const { execFile } = await import('node:child_process');
  if (!existsSync('/usr/bin/gpioset') || !existsSync('/usr/bin/gpiomon')) {
    t.fail('Debian package gpiod is not installed (scripts/debian-packages.txt)');
    return;
  }
  const options = { ...GPIO, activeLow: true, buttonActiveLow: false };
  const p = await gpioProbe(options);
  t.teardown(() => p.cleanup());
  await p.driver.open();
  await p.driver.setLight({ red: true, green: false, blue: true });
  const calls = await eventually('calls', () => p.fake.calls(), (c) => c.some((x) => x.args[0] === '--mode=signal'));
  t.same(new Set(calls.map((c) => `${c.tool} ${c.args[0]}`)), new Set(['gpioset --mode=exit', 'gpiomon --line-buffered', 'gpioset --mode=signal']));
  for (const c of calls) {
    // With a chip that does not exist the tools get past option parsing and fail on the device.
    const args = c.args.map((a) => (a === options.chip ? 'praxisbox-no-such-chip' : a));
    const stderr = await new Promise<string>((resolve) => execFile(`/usr/bin/${c.tool}`, args, { timeout: 5_000 }, (_e, _o, err) => resolve(err)));
    t.match(stderr, /No such file or directory/, `${c.tool} ${args.join(' ')}: reached the chip`);
    t.notMatch(stderr, /unrecognized|invalid|usage|try /i, 'no option error');
  }
});

t.test('johnny-five is loaded only when a Firmata panel is opened', async (t) => {
  const { execFile } = await import('node:child_process');
  const { repoRoot } = await import('../helpers/fixtures.js');
  const script = `
    import { createRequire } from 'node:module';
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('johnny-five'));
    await import('./dist/agent/main.js');
    const { createDriver } = await import('./dist/board/create-driver.js');
    const settings = { gpio: {}, firmata: { port: '/dev/null', red: 9, green: 10, button: 2, activeLow: false, buttonActiveLow: true } };
    await createDriver({ ...settings, driver: 'none' });
    const afterNone = loaded();
    const panel = await createDriver({ ...settings, driver: 'firmata' });
    const afterCreate = loaded();
    const { FirmataDriver } = await import('./dist/board/firmata-driver.js');
    await new FirmataDriver({ options: settings.firmata, io: async () => { throw new Error('no panel'); } }).open().catch(() => {});
    console.log(JSON.stringify({ afterNone, afterCreate, afterOpen: loaded(), kind: panel.kind }));
  `;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
  );
  t.same(JSON.parse(out), { afterNone: false, afterCreate: false, afterOpen: true, kind: 'firmata' });
});

t.test('firmata over a pty: an unplugged panel shows up as a problem', async (t) => {
  const p = await ptyProbe();
  t.teardown(() => p.cleanup());
  await p.driver.open();
  await p.driver.setLight({ red: true, green: false, blue: false });
  await eventually('red on the panel', () => p.panel.level(9), (v) => v === true);
  t.equal(p.panel.modes.get(2), 0, 'button pin is an INPUT');
  t.ok(p.panel.pullup(2), 'with the pull-up enabled (HIGH written to the input, StandardFirmata style)');
  await p.panel.stop();
  t.equal(await eventually('problem', () => p.driver.problem(), (v) => v !== undefined), 'Firmata panel disconnected');
});
