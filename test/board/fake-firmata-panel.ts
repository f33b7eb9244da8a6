import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A StandardFirmata board on a real pseudo-terminal: `script` (util-linux, always on Debian)
 * allocates the pty and relays its master side over pipes, so the driver opens an actual tty
 * (`stty`, `cat`, writes) and firmata-io does its real handshake. The fake answers the version,
 * firmware, capability and analog-mapping queries, remembers digital port writes and can report
 * button levels.
 */
export interface FakePanel {
  tty: string;
  level(pin: number): boolean | undefined;
  pullup(pin: number): boolean;
  /** Reports the level of `pin` (as a digital port message), like a pin change on the board. */
  setInput(pin: number, high: boolean): void;
  modes: Map<number, number>;
  stop(): Promise<void>;
}

const PINS = 20;

export async function fakeFirmataPanel(): Promise<FakePanel> {
  const proc = spawn('script', ['-q', '-f', '-E', 'never', '-c', 'tty; exec sleep 600', '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let first = '';
  const tty = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      first += d.toString('latin1');
      const m = /(\/dev\/pts\/\d+)\s*\n/.exec(first);
      if (m?.[1]) {
        proc.stdout.off('data', onData);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', () => reject(new Error('script exited before printing its tty')));
  });
  execFileSync('stty', ['-F', tty, 'raw', '-echo']);

  const outputs = new Map<number, boolean>();
  const pullups = new Map<number, boolean>();
  const inputs = new Array<number>(3).fill(0);
  const modes = new Map<number, number>();
  let heard = false;
  const send = (bytes: number[]): void => void proc.stdin.write(Buffer.from(bytes));
  const version = (): void => send([0xf9, 2, 5]);
  const firmware = (): void => send([0xf0, 0x79, 2, 5, ...[...'FakeFirmata.ino'].flatMap((c) => [c.charCodeAt(0) & 0x7f, 0]), 0xf7]);
  // StandardFirmata announces its version and firmware after reset (firmata-io waits for both);
  // repeat until the host speaks, since the host may open the tty after the first announcement.
  const announcing = setInterval(() => {
    if (heard) return;
    version();
    firmware();
  }, 100);

  let buf: number[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    heard = true;
    buf.push(...d);
    for (;;) {
      const b = buf[0];
      if (b === undefined) break;
      if (b === 0xf0) {
        const end = buf.indexOf(0xf7);
        if (end < 0) break;
        sysex(buf.slice(1, end));
        buf = buf.slice(end + 1);
        continue;
      }
      const len = b >= 0x90 && b <= 0x9f ? 3 : b >= 0xc0 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b === 0xf4 || b === 0xf5 ? 3 : 1;
      if (buf.length < len) break;
      const msg = buf.slice(0, len);
      buf = buf.slice(len);
      if (b >= 0x90 && b <= 0x9f) {
        const port = b & 0x0f;
        const value = (msg[1] ?? 0) | ((msg[2] ?? 0) << 7);
        for (let bit = 0; bit < 8; bit++) {
          const pin = port * 8 + bit;
          const high = ((value >> bit) & 1) === 1;
          // StandardFirmata: HIGH on an OUTPUT pin drives it; on an INPUT pin it enables the pull-up.
          if (modes.get(pin) === 1) outputs.set(pin, high);
          else if (modes.get(pin) === 0) pullups.set(pin, high);
        }
      } else if (b === 0xf4) modes.set(msg[1] ?? 0, msg[2] ?? 0);
      else if (b === 0xf5) outputs.set(msg[1] ?? 0, msg[2] === 1);
      else if (b === 0xf9) version();
    }
  });

  function sysex(body: number[]): void {
    switch (body[0]) {
      case 0x79:
        firmware();
        return;
      case 0x6b: {
        const pin = [0x00, 1, 0x01, 1, 0x0b, 1, 0x7f];
        send([0xf0, 0x6c, ...Array.from({ length: PINS }, () => pin).flat(), 0xf7]);
        return;
      }
      case 0x69:
        send([0xf0, 0x6a, ...new Array<number>(PINS).fill(0x7f), 0xf7]);
        return;
    }
  }

  return {
    tty,
    modes,
    level: (pin) => outputs.get(pin),
    pullup: (pin) => pullups.get(pin) === true,
    setInput: (pin, high) => {
      const port = pin >> 3;
      inputs[port] = high ? (inputs[port] ?? 0) | (1 << (pin & 7)) : (inputs[port] ?? 0) & ~(1 << (pin & 7));
      const v = inputs[port] ?? 0;
      send([0x90 | port, v & 0x7f, (v >> 7) & 0x7f]);
    },
    stop: async () => {
      clearInterval(announcing);
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = once(proc, 'exit');
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}
