import type { Clock } from '../agent/core/clock.js';
import { ButtonGestures, DEFAULT_GESTURE_TIMING, type ButtonGesture, type GestureTiming } from './button-gestures.js';
import { LedPlayer } from './led-player.js';
import type { LedPattern } from './led-patterns.js';

export type { LedPattern } from './led-patterns.js';
export type { ButtonGesture, GestureTiming } from './button-gestures.js';

/** What the LED shows at one moment: each colour channel on or off (yellow = red + green). */
export interface Light {
  red: boolean;
  green: boolean;
  blue: boolean;
}

export const LIGHT_OFF: Light = Object.freeze({ red: false, green: false, blue: false });

/** A level change of the button: `down` = pressed. Drivers report raw (but de-duplicated) levels. */
export type ButtonEdge = 'down' | 'up';

/** How an RGB (or red/green) LED and a button are wired: GPIO line offsets or Firmata pin numbers. */
export interface LedButtonWiring {
  red: number;
  green: number;
  /** Absent on a red/green two-LED setup. */
  blue?: number;
  button: number;
  /** LED outputs are active-low (common-anode RGB LED). */
  activeLow: boolean;
  /** The button pulls its input to ground when pressed (internal pull-up); otherwise to the supply (pull-down). */
  buttonActiveLow: boolean;
}

/**
 * One piece of hardware: an LED with up to three channels and one button. Every driver (GPIO
 * character device, Firmata panel, none) implements this and passes the same contract suite
 * (test/board/driver-contract.ts). Drivers know nothing about patterns or gestures.
 */
export interface BoardDriver {
  readonly kind: 'gpio' | 'firmata' | 'none';
  /** True when the LED has a blue channel; patterns fall back to red/green colours otherwise. */
  readonly hasBlue: boolean;
  /** Claims the hardware; throws a PraxisboxError(DeviceUnavailable) with a plain reason when it cannot. */
  open(): Promise<void>;
  /** Shows `light` until the next call. Resolves when the hardware has it. */
  setLight(light: Light): Promise<void>;
  /** `handler` gets every level change of the button, in order. */
  onButton(handler: (edge: ButtonEdge) => void): void;
  /** A problem found after open (a helper process died): plain reason, or undefined when fine. */
  problem(): string | undefined;
  /** Turns the LED off and releases the hardware. Idempotent. */
  close(): Promise<void>;
}

/** The status LED and button as the agent sees them: patterns in, gestures out. */
export interface Board {
  readonly kind: BoardDriver['kind'];
  /** Plays `pattern` (steady or blinking) until another one is set. Setting the same pattern again changes nothing. */
  setLed(pattern: LedPattern): void;
  /** The pattern currently playing. */
  led(): LedPattern;
  /** `handler` gets short presses, the 10 s hold, and the outcome of the factory-reset confirmation. */
  onButton(handler: (gesture: ButtonGesture) => void): void;
  /** Stops the pattern, turns the LED off and releases the hardware. */
  close(): Promise<void>;
}

export interface BoardDeps {
  driver: BoardDriver;
  clock: Clock;
  timing?: Partial<GestureTiming>;
  /** A failed LED write (the driver stays usable; the next step tries again). */
  onLedError?: (err: unknown) => void;
}

/** Opens the driver and wires the pattern player and the gesture recogniser to it. */
export async function openBoard(deps: BoardDeps): Promise<Board> {
  const { driver, clock } = deps;
  await driver.open();
  const player = new LedPlayer({ clock, hasBlue: driver.hasBlue, write: (light) => driver.setLight(light), ...(deps.onLedError ? { onError: deps.onLedError } : {}) });
  const gestures = new ButtonGestures({ clock, timing: { ...DEFAULT_GESTURE_TIMING, ...deps.timing } });
  driver.onButton((edge) => gestures.edge(edge));
  let closed = false;
  return {
    kind: driver.kind,
    setLed: (pattern) => {
      if (!closed) player.play(pattern);
    },
    led: () => player.pattern(),
    onButton: (handler) => gestures.onGesture(handler),
    close: async () => {
      if (closed) return;
      closed = true;
      gestures.stop();
      await player.stop();
      await driver.close();
    },
  };
}
