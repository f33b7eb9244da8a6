import type { Test } from 'tap';
import { ErrorCode } from '../../agent/core/errors.js';
import { systemClock } from '../../agent/core/clock.js';
import { openBoard, type BoardDriver, type ButtonEdge, type ButtonGesture, type Light } from '../../board/board.js';

/**
 * One suite, every driver (architecture.md "contract test suites"). A probe builds a driver on its
 * test peer (fake gpiod tools, mock-firmata, nothing) and reads back what the hardware would show.
 */
export interface DriverProbe {
  driver: BoardDriver;
  /** What the LED shows now, read from the peer (pin writes, the live gpioset's arguments). */
  lit(): Promise<Light>;
  /** Moves the button; absent for a driver without one. */
  button?: (edge: ButtonEdge) => Promise<void>;
  cleanup(): Promise<void>;
}

const OFF: Light = { red: false, green: false, blue: false };
const L = (red: boolean, green: boolean, blue: boolean): Light => ({ red, green, blue });

export async function eventually<T>(what: string, get: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

const sameLight = (want: Light, hasBlue: boolean) => (got: Light) =>
  got.red === want.red && got.green === want.green && (!hasBlue || got.blue === want.blue);

export function driverContract(t: Test, name: string, make: () => Promise<DriverProbe>): void {
  t.test(`${name}: shows every light it is given`, async (t) => {
    const p = await make();
    t.teardown(() => p.cleanup());
    await p.driver.open();
    t.equal(p.driver.problem(), undefined, 'no problem after open');
    const lights = [L(false, true, false), L(true, true, false), L(true, false, false), ...(p.driver.hasBlue ? [L(false, false, true)] : []), OFF, L(true, false, false)];
    for (const light of lights) {
      await p.driver.setLight(light);
      const got = await eventually(`light ${JSON.stringify(light)}`, () => p.lit(), sameLight(light, p.driver.hasBlue));
      t.ok(sameLight(light, p.driver.hasBlue)(got), `shows ${JSON.stringify(light)}`);
    }
    t.equal(p.driver.problem(), undefined, 'still no problem');
    await p.driver.close();
  });

  t.test(`${name}: reports button edges in order`, async (t) => {
    const p = await make();
    t.teardown(() => p.cleanup());
    if (!p.button) {
      t.pass('driver has no button');
      return;
    }
    await p.driver.open();
    const edges: ButtonEdge[] = [];
    p.driver.onButton((e) => edges.push(e));
    await p.button('down');
    await eventually('down', () => edges.length, (n) => n >= 1);
    await p.button('up');
    await eventually('up', () => edges.length, (n) => n >= 2);
    t.same(edges, ['down', 'up']);
    await p.driver.close();
  });

  t.test(`${name}: a Board on it plays patterns and recognises a press`, async (t) => {
    const p = await make();
    t.teardown(() => p.cleanup());
    const board = await openBoard({ driver: p.driver, clock: systemClock, timing: { minPressMs: 0 } });
    const gestures: ButtonGesture[] = [];
    board.onButton((g) => gestures.push(g));
    board.setLed('degraded');
    await eventually('yellow', () => p.lit(), sameLight(L(true, true, false), p.driver.hasBlue));
    board.setLed('factory-reset-confirm');
    await eventually('blink red', () => p.lit(), sameLight(L(true, false, false), p.driver.hasBlue));
    await eventually('blink off', () => p.lit(), sameLight(OFF, p.driver.hasBlue));
    t.equal(board.led(), 'factory-reset-confirm');
    if (p.button) {
      await p.button('down');
      await new Promise((r) => setTimeout(r, 30));
      await p.button('up');
      await eventually('press gesture', () => gestures.length, (n) => n >= 1);
      t.same(gestures, [{ type: 'press' }]);
    }
    await board.close();
    t.same(await eventually('dark', () => p.lit(), sameLight(OFF, true)), OFF, 'dark after close');
    await board.close();
  });

  t.test(`${name}: close turns the LED off, is idempotent, and refuses later writes`, async (t) => {
    const p = await make();
    t.teardown(() => p.cleanup());
    await p.driver.open();
    await p.driver.setLight(L(true, true, true));
    await eventually('lit', () => p.lit(), (l) => l.red);
    await p.driver.close();
    await p.driver.close();
    t.same(await eventually('dark', () => p.lit(), sameLight(OFF, true)), OFF, 'dark after close');
    await t.rejects(p.driver.setLight(L(true, false, false)), { code: ErrorCode.DeviceUnavailable });
  });
}
