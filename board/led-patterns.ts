import type { HealthLevel } from '../agent/core/module.js';
import type { Light } from './board.js';

/**
 * The LED vocabulary. Steady colours say how the box is; blinking ones say what it is doing.
 * German meanings for practice staff are in docs/board.md.
 */
export const LED_PATTERNS = ['off', 'ok', 'degraded', 'fault', 'pairing', 'identify', 'updating', 'factory-reset-confirm'] as const;
export type LedPattern = (typeof LED_PATTERNS)[number];

/** Everything the LED depends on, gathered by the board module. Pure data: no clocks inside. */
export interface LedInputs {
  health: HealthLevel;
  /** The 10 s hold was reached: waiting for the confirming press. */
  resetConfirm: boolean;
  /** An update is between download and restart. */
  updating: boolean;
  /** Identify shows until this time (epoch ms); undefined or past = not identifying. */
  identifyUntil?: number;
  /** The cloud pairing waits for someone to confirm the box's setup code. */
  pairingPending: boolean;
}

/**
 * Precedence, highest first: factory-reset confirm (a destructive step in progress must never be
 * hidden) > updating (do not unplug) > identify (time-limited, someone is looking for this box) >
 * pairing pending > health.
 */
export function selectPattern(inputs: LedInputs, now: number): LedPattern {
  if (inputs.resetConfirm) return 'factory-reset-confirm';
  if (inputs.updating) return 'updating';
  if (inputs.identifyUntil !== undefined && inputs.identifyUntil > now) return 'identify';
  if (inputs.pairingPending) return 'pairing';
  return inputs.health;
}

/** One step of a pattern: show `light` for `ms`. A steady pattern is one step with `ms` = Infinity. */
export interface LedStep {
  light: Light;
  ms: number;
}

type Colour = 'off' | 'red' | 'green' | 'yellow' | 'blue';

const STEPS: Readonly<Record<LedPattern, readonly (readonly [Colour, number])[]>> = {
  off: [['off', Infinity]],
  ok: [['green', Infinity]],
  degraded: [['yellow', Infinity]],
  fault: [['red', Infinity]],
  // Slow, calm blink: waiting for someone to enter the setup code.
  pairing: [
    ['blue', 1000],
    ['off', 1000],
  ],
  // Fast colour cycle: nothing else looks like it, so the right box is found in a rack.
  identify: [
    ['red', 200],
    ['green', 200],
    ['blue', 200],
  ],
  // Double blink ("heartbeat") in yellow: busy, do not unplug.
  updating: [
    ['yellow', 150],
    ['off', 150],
    ['yellow', 150],
    ['off', 550],
  ],
  // Fast red flicker: a factory reset waits for its confirmation.
  'factory-reset-confirm': [
    ['red', 100],
    ['off', 100],
  ],
};

/** Without a blue channel blue becomes green (pairing blinks green); identify cycles red/green/yellow instead. */
function lightOf(colour: Colour, hasBlue: boolean): Light {
  switch (colour) {
    case 'off':
      return { red: false, green: false, blue: false };
    case 'red':
      return { red: true, green: false, blue: false };
    case 'green':
      return { red: false, green: true, blue: false };
    case 'yellow':
      return { red: true, green: true, blue: false };
    case 'blue':
      return hasBlue ? { red: false, green: false, blue: true } : { red: false, green: true, blue: false };
  }
}

/** The timed steps of `pattern`, repeated forever by the player. */
export function patternSteps(pattern: LedPattern, hasBlue: boolean): LedStep[] {
  return STEPS[pattern].map(([colour, ms], i) => {
    // Identify's third step would repeat green on a red/green LED; yellow keeps three distinct colours.
    if (!hasBlue && pattern === 'identify' && i === 2) return { light: lightOf('yellow', false), ms };
    return { light: lightOf(colour, hasBlue), ms };
  });
}

/** One full cycle of a blinking pattern in ms (Infinity for steady ones). */
export function cycleMs(pattern: LedPattern): number {
  return STEPS[pattern].reduce((sum, [, ms]) => sum + ms, 0);
}
