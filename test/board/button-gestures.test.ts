import t from 'tap';
import { ButtonGestures, DEFAULT_GESTURE_TIMING, recognize, type ButtonGesture, type GestureState } from '../../board/button-gestures.js';
import { ManualClock } from './manual-clock.js';

const T = DEFAULT_GESTURE_TIMING;

function harness() {
  const clock = new ManualClock();
  const gestures = new ButtonGestures({ clock });
  const seen: string[] = [];
  gestures.onGesture((g: ButtonGesture) => seen.push(g.type === 'reset-cancelled' ? `cancelled:${g.reason}` : g.type));
  const press = (ms: number): void => {
    gestures.edge('down');
    clock.advance(ms);
    gestures.edge('up');
  };
  return { clock, gestures, seen, press };
}

t.test('short press → press; bounce and 2–10 s presses → nothing', async (t) => {
  const { clock, seen, press, gestures } = harness();
  press(300);
  t.same(seen, ['press']);
  press(T.minPressMs - 1);
  t.same(seen, ['press'], 'contact bounce is not a press');
  press(T.shortPressMaxMs);
  t.same(seen, ['press', 'press'], 'exactly the maximum still counts');
  press(T.shortPressMaxMs + 1);
  press(9_000);
  t.same(seen, ['press', 'press'], 'released between 2 s and 10 s: ignored');
  gestures.edge('up');
  gestures.edge('up');
  clock.advance(60_000);
  t.same(seen, ['press', 'press'], 'stray releases do nothing');
  t.same(gestures.state(), { kind: 'idle' });
});

t.test('hold 10 s → hold; release and press again → reset-confirmed', async (t) => {
  const { clock, seen, gestures, press } = harness();
  gestures.edge('down');
  clock.advance(T.holdMs - 1);
  t.same(seen, [], 'not before 10 s');
  clock.advance(1);
  t.same(seen, ['hold'], 'the hold is announced while still held (the LED shows the confirm pattern)');
  clock.advance(3_000);
  gestures.edge('up');
  t.same(seen, ['hold'], 'releasing alone resets nothing');
  clock.advance(T.confirmWindowMs - 500);
  press(200);
  t.same(seen, ['hold', 'reset-confirmed']);
  t.same(gestures.state(), { kind: 'idle' });
  clock.advance(60_000);
  t.same(seen, ['hold', 'reset-confirmed'], 'no late timer fires');
});

t.test('no second press within the window → cancelled', async (t) => {
  const { clock, seen, gestures, press } = harness();
  press(T.holdMs + 100);
  t.same(seen, ['hold']);
  clock.advance(T.confirmWindowMs);
  t.same(seen, ['hold', 'cancelled:no confirming press']);
  press(200);
  t.same(seen, ['hold', 'cancelled:no confirming press', 'press'], 'afterwards a press is an ordinary press again');
  t.equal(gestures.state().kind, 'idle');
});

t.test('a stuck or weighed-down button never resets', async (t) => {
  const { clock, seen, gestures } = harness();
  gestures.edge('down');
  clock.advance(T.holdMs + T.stuckMs);
  t.same(seen, ['hold', 'cancelled:button held too long']);
  clock.advance(10 * 60_000);
  gestures.edge('up');
  gestures.edge('down');
  clock.advance(100);
  gestures.edge('up');
  t.same(seen, ['hold', 'cancelled:button held too long', 'press'], 'after release everything starts over');
});

t.test('the confirming press must be short; a bounce during it keeps the window', async (t) => {
  const { clock, seen, gestures, press } = harness();
  press(T.holdMs);
  press(T.shortPressMaxMs + 500);
  t.same(seen, ['hold', 'cancelled:confirming press too long'], 'held past 2 s: cancelled when the timer fires');
  gestures.edge('up');
  t.equal(gestures.state().kind, 'idle');

  press(T.holdMs);
  press(5);
  t.equal(gestures.state().kind, 'armed-released', 'bounce during confirmation: still waiting');
  press(300);
  t.same(seen.slice(-2), ['hold', 'reset-confirmed']);
  void clock;
});

t.test('recognize is pure and reports when to call again', async (t) => {
  const s0: GestureState = { kind: 'idle' };
  const a = recognize(s0, { type: 'down', at: 1000 }, T);
  t.same(a, { state: { kind: 'pressed', since: 1000 }, gestures: [], deadline: 1000 + T.holdMs });
  t.same(s0, { kind: 'idle' }, 'input state untouched');
  const early = recognize(a.state, { type: 'timer', at: 1000 + T.holdMs - 1 }, T);
  t.same(early.gestures, [], 'an early timer does nothing');
  t.equal(early.deadline, 1000 + T.holdMs, 'and asks again at the deadline');
  const held = recognize(a.state, { type: 'timer', at: 1000 + T.holdMs }, T);
  t.same(held.gestures, [{ type: 'hold' }]);
  t.equal(held.deadline, 1000 + T.holdMs + T.stuckMs);
  t.same(recognize({ kind: 'blocked' }, { type: 'timer', at: 0 }, T), { state: { kind: 'blocked' }, gestures: [] });
});

t.test('stop cancels pending timers and ignores later edges', async (t) => {
  const { clock, seen, gestures } = harness();
  gestures.edge('down');
  gestures.stop();
  t.equal(clock.pending(), 0);
  clock.advance(T.holdMs * 2);
  gestures.edge('up');
  t.same(seen, []);
});
