import type { Clock, Timer } from '../agent/core/clock.js';
import type { ButtonEdge } from './board.js';

/**
 * Button gestures:
 * - a short press (released within `shortPressMaxMs`) → `press` (identify, show the pairing state);
 * - holding for `holdMs` → `hold`: the LED shows the factory-reset confirm pattern. Nothing is reset yet;
 * - release, then press briefly again within `confirmWindowMs` → `reset-confirmed`;
 * - no second press in time, a second press held too long, or the first hold never released
 *   (`stuckMs` past the hold: something is lying on the button) → `reset-cancelled`.
 * Releasing between `shortPressMaxMs` and `holdMs` does nothing. Presses shorter than `minPressMs`
 * are contact bounce and ignored. Requiring a release and a second press (rather than "keep holding")
 * means a button that is stuck or weighed down can never wipe the box.
 */
export type ButtonGesture = { type: 'press' } | { type: 'hold' } | { type: 'reset-confirmed' } | { type: 'reset-cancelled'; reason: string };

export interface GestureTiming {
  minPressMs: number;
  shortPressMaxMs: number;
  holdMs: number;
  confirmWindowMs: number;
  stuckMs: number;
}

export const DEFAULT_GESTURE_TIMING: GestureTiming = { minPressMs: 50, shortPressMaxMs: 2_000, holdMs: 10_000, confirmWindowMs: 5_000, stuckMs: 20_000 };

export type GestureState =
  | { kind: 'idle' }
  | { kind: 'pressed'; since: number }
  | { kind: 'armed-held'; since: number }
  | { kind: 'armed-released'; until: number }
  | { kind: 'confirming'; since: number; until: number }
  | { kind: 'blocked' };

export type GestureInput = { type: ButtonEdge | 'timer'; at: number };

export interface GestureStep {
  state: GestureState;
  gestures: ButtonGesture[];
  /** When to feed a `timer` input next (epoch ms), if anything is pending. */
  deadline?: number;
}

const IDLE: GestureState = { kind: 'idle' };

/** The recogniser itself: pure, one input at a time. */
export function recognize(state: GestureState, input: GestureInput, t: GestureTiming): GestureStep {
  const { type, at } = input;
  const stay = (): GestureStep => ({ state, gestures: [], ...deadlineOf(state, t) });
  const to = (next: GestureState, gestures: ButtonGesture[] = []): GestureStep => ({ state: next, gestures, ...deadlineOf(next, t) });
  switch (state.kind) {
    case 'idle':
      return type === 'down' ? to({ kind: 'pressed', since: at }) : stay();
    case 'pressed': {
      if (type === 'up') {
        const held = at - state.since;
        return to(IDLE, held >= t.minPressMs && held <= t.shortPressMaxMs ? [{ type: 'press' }] : []);
      }
      if (type === 'timer' && at >= state.since + t.holdMs) return to({ kind: 'armed-held', since: state.since }, [{ type: 'hold' }]);
      return stay();
    }
    case 'armed-held':
      if (type === 'up') return to({ kind: 'armed-released', until: at + t.confirmWindowMs });
      if (type === 'timer' && at >= state.since + t.holdMs + t.stuckMs) return to({ kind: 'blocked' }, [cancelled('button held too long')]);
      return stay();
    case 'armed-released':
      if (type === 'down') return to({ kind: 'confirming', since: at, until: state.until });
      if (type === 'timer' && at >= state.until) return to(IDLE, [cancelled('no confirming press')]);
      return stay();
    case 'confirming': {
      if (type === 'up') {
        const held = at - state.since;
        if (held < t.minPressMs) return to({ kind: 'armed-released', until: state.until });
        return held <= t.shortPressMaxMs ? to(IDLE, [{ type: 'reset-confirmed' }]) : to(IDLE, [cancelled('confirming press too long')]);
      }
      if (type === 'timer' && at > state.since + t.shortPressMaxMs) return to({ kind: 'blocked' }, [cancelled('confirming press too long')]);
      return stay();
    }
    case 'blocked':
      return type === 'up' ? to(IDLE) : stay();
  }
}

function cancelled(reason: string): ButtonGesture {
  return { type: 'reset-cancelled', reason };
}

function deadlineOf(state: GestureState, t: GestureTiming): { deadline?: number } {
  switch (state.kind) {
    case 'pressed':
      return { deadline: state.since + t.holdMs };
    case 'armed-held':
      return { deadline: state.since + t.holdMs + t.stuckMs };
    case 'armed-released':
      return { deadline: state.until };
    case 'confirming':
      return { deadline: state.since + t.shortPressMaxMs + 1 };
    default:
      return {};
  }
}

/** The thin shell: feeds edges and timer expiries from the injected clock into `recognize`. */
export class ButtonGestures {
  readonly #clock: Clock;
  readonly #timing: GestureTiming;
  readonly #handlers: ((g: ButtonGesture) => void)[] = [];
  #state: GestureState = IDLE;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(deps: { clock: Clock; timing?: GestureTiming }) {
    this.#clock = deps.clock;
    this.#timing = deps.timing ?? DEFAULT_GESTURE_TIMING;
  }

  onGesture(handler: (g: ButtonGesture) => void): void {
    this.#handlers.push(handler);
  }

  state(): GestureState {
    return this.#state;
  }

  edge(edge: ButtonEdge): void {
    this.#feed({ type: edge, at: this.#clock.now() });
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #feed(input: GestureInput): void {
    if (this.#stopped) return;
    const step = recognize(this.#state, input, this.#timing);
    this.#state = step.state;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (step.deadline !== undefined) {
      const wait = Math.max(0, step.deadline - this.#clock.now());
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#feed({ type: 'timer', at: this.#clock.now() });
      }, wait);
    }
    for (const g of step.gestures) for (const h of this.#handlers) h(g);
  }
}
