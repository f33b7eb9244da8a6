import t from 'tap';
import { LED_PATTERNS, cycleMs, patternSteps, selectPattern, type LedInputs } from '../../board/led-patterns.js';
import { LedPlayer } from '../../board/led-player.js';
import type { Light } from '../../board/board.js';
import { ManualClock } from './manual-clock.js';

const NOW = 1_000_000;
const base: LedInputs = { health: 'ok', resetConfirm: false, updating: false, pairingPending: false };

t.test('health alone picks the steady colour', async (t) => {
  t.equal(selectPattern(base, NOW), 'ok');
  t.equal(selectPattern({ ...base, health: 'degraded' }, NOW), 'degraded');
  t.equal(selectPattern({ ...base, health: 'fault' }, NOW), 'fault');
});

t.test('precedence: reset confirm > updating > identify > pairing > health', async (t) => {
  const all: LedInputs = { health: 'fault', resetConfirm: true, updating: true, identifyUntil: NOW + 1000, pairingPending: true };
  t.equal(selectPattern(all, NOW), 'factory-reset-confirm');
  t.equal(selectPattern({ ...all, resetConfirm: false }, NOW), 'updating');
  t.equal(selectPattern({ ...all, resetConfirm: false, updating: false }, NOW), 'identify');
  t.equal(selectPattern({ ...all, resetConfirm: false, updating: false, identifyUntil: undefined }, NOW), 'pairing');
  t.equal(selectPattern({ ...all, resetConfirm: false, updating: false, identifyUntil: undefined, pairingPending: false }, NOW), 'fault');
});

t.test('identify is time-limited', async (t) => {
  t.equal(selectPattern({ ...base, identifyUntil: NOW + 1 }, NOW), 'identify');
  t.equal(selectPattern({ ...base, identifyUntil: NOW }, NOW), 'ok', 'ends exactly at its deadline');
  t.equal(selectPattern({ ...base, identifyUntil: NOW - 5000, pairingPending: true }, NOW), 'pairing');
});

const colour = (l: Light): string => (l.red && l.green ? 'yellow' : l.red ? 'red' : l.green ? 'green' : l.blue ? 'blue' : 'off');

t.test('steady patterns are one infinite step of their colour', async (t) => {
  t.same(patternSteps('ok', true).map((s) => [colour(s.light), s.ms]), [['green', Infinity]]);
  t.same(patternSteps('degraded', true).map((s) => [colour(s.light), s.ms]), [['yellow', Infinity]]);
  t.same(patternSteps('fault', false).map((s) => [colour(s.light), s.ms]), [['red', Infinity]]);
  t.same(patternSteps('off', true).map((s) => [colour(s.light), s.ms]), [['off', Infinity]]);
  t.equal(cycleMs('ok'), Infinity);
});

t.test('blinking patterns have finite steps and visibly differ', async (t) => {
  const blinking = LED_PATTERNS.filter((p) => Number.isFinite(cycleMs(p)));
  t.same(blinking, ['pairing', 'identify', 'updating', 'factory-reset-confirm']);
  for (const hasBlue of [true, false]) {
    const shapes = new Set<string>();
    for (const p of blinking) {
      const steps = patternSteps(p, hasBlue);
      t.ok(steps.length >= 2 && steps.every((s) => s.ms >= 100 && s.ms <= 1000), `${p}: between 100 ms and 1 s per step`);
      t.ok(steps.some((s) => colour(s.light) !== colour(steps[0]!.light)), `${p} changes`);
      shapes.add(JSON.stringify(steps.map((s) => [colour(s.light), s.ms])));
      if (!hasBlue) t.notOk(steps.some((s) => s.light.blue), `${p} uses no blue on a red/green LED`);
    }
    t.equal(shapes.size, blinking.length, `all blinking patterns distinct (hasBlue=${hasBlue})`);
  }
  t.same(patternSteps('pairing', true).map((s) => colour(s.light)), ['blue', 'off']);
  t.same(patternSteps('pairing', false).map((s) => colour(s.light)), ['green', 'off']);
  t.same(patternSteps('identify', false).map((s) => colour(s.light)), ['red', 'green', 'yellow']);
  t.same(patternSteps('factory-reset-confirm', true).map((s) => [colour(s.light), s.ms]), [['red', 100], ['off', 100]]);
});

t.test('the player steps a pattern with the clock and switches at once', async (t) => {
  const clock = new ManualClock();
  const written: string[] = [];
  const player = new LedPlayer({ clock, hasBlue: true, write: async (l) => void written.push(colour(l)) });
  player.play('ok');
  await flush();
  t.same(written, ['green']);
  player.play('ok');
  clock.advance(10_000);
  await flush();
  t.same(written, ['green'], 'same pattern again and time passing: no rewrites');
  player.play('factory-reset-confirm');
  await flush();
  for (let i = 0; i < 3; i++) {
    clock.advance(100);
    await flush();
  }
  t.same(written, ['green', 'red', 'off', 'red', 'off']);
  player.play('degraded');
  clock.advance(1000);
  await flush();
  t.same(written.slice(-1), ['yellow'], 'the blink stops when a steady pattern replaces it');
  t.equal(clock.pending(), 0, 'no timer left for a steady pattern');
  await player.stop();
  player.play('fault');
  await flush();
  t.same(written.slice(-1), ['yellow'], 'nothing plays after stop');
});

t.test('a slow driver gets only the newest light; a failed write is reported and retried later', async (t) => {
  const clock = new ManualClock();
  const written: string[] = [];
  const errors: unknown[] = [];
  let release: (() => void) | undefined;
  let fail = false;
  const player = new LedPlayer({
    clock,
    hasBlue: true,
    onError: (e) => errors.push(e),
    write: (l) =>
      new Promise<void>((resolve, reject) => {
        if (fail) return reject(new Error('gone'));
        written.push(colour(l));
        release = resolve;
      }),
  });
  player.play('ok');
  player.play('fault');
  player.play('degraded');
  await flush();
  t.same(written, ['green'], 'one write in flight');
  release?.();
  await flush();
  t.same(written, ['green', 'yellow'], 'the intermediate red was skipped');
  release?.();
  fail = true;
  player.play('fault');
  await flush();
  t.equal(errors.length, 1);
  fail = false;
  player.play('ok');
  await flush();
  t.same(written.slice(-1), ['green']);
  release?.();
  await player.stop();
});

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
