import { existsSync } from 'node:fs';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * Optional USB hotplug hints: when a USB device appears or disappears, the cards module retries PC/SC
 * at once instead of waiting for its backoff. `usb` (node-usb) is an optional dependency, loaded only
 * here and only when `/sys/bus/usb/devices` exists: without it, adding a listener makes node-usb
 * reject a promise nobody handles, which kills the process (measured in a container).
 */
export interface UsbHintsDeps {
  log: Logger;
  onChange: (what: 'attach' | 'detach') => void;
  /** Overridable for tests. */
  sysfsPath?: string;
  load?: () => Promise<unknown>;
}

export interface UsbHints {
  stop(): void;
}

interface UsbEmitter {
  addEventListener(type: 'connect' | 'disconnect', listener: () => void): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: () => void): void;
}

function emitterOf(mod: unknown): UsbEmitter | undefined {
  if (typeof mod !== 'object' || mod === null) return undefined;
  const usb: unknown = Reflect.get(mod, 'usb') ?? Reflect.get(Reflect.get(mod, 'default') ?? {}, 'usb');
  if (typeof usb !== 'object' || usb === null) return undefined;
  const add: unknown = Reflect.get(usb, 'addEventListener');
  const remove: unknown = Reflect.get(usb, 'removeEventListener');
  if (typeof add !== 'function' || typeof remove !== 'function') return undefined;
  return {
    addEventListener: (type, listener) => Reflect.apply(add, usb, [type, listener]),
    removeEventListener: (type, listener) => Reflect.apply(remove, usb, [type, listener]),
  };
}

// A variable specifier keeps TypeScript from requiring the optional package at build time.
const USB_PACKAGE = 'usb';

/** Starts the hints, or returns undefined (logged at debug) when they cannot work here. */
export async function startUsbHints(deps: UsbHintsDeps): Promise<UsbHints | undefined> {
  const sysfs = deps.sysfsPath ?? '/sys/bus/usb/devices';
  if (!existsSync(sysfs)) {
    deps.log.debug({ sysfs }, 'USB hotplug hints off: no USB sysfs on this machine');
    return undefined;
  }
  let emitter: UsbEmitter | undefined;
  try {
    emitter = emitterOf(await (deps.load ?? (() => import(USB_PACKAGE)))());
  } catch (err) {
    deps.log.debug({ err }, `USB hotplug hints off: node-usb not loadable (${describeError(err)})`);
    return undefined;
  }
  if (!emitter) {
    deps.log.debug('USB hotplug hints off: node-usb has an unexpected shape');
    return undefined;
  }
  const onAttach = (): void => deps.onChange('attach');
  const onDetach = (): void => deps.onChange('detach');
  try {
    emitter.addEventListener('connect', onAttach);
    emitter.addEventListener('disconnect', onDetach);
  } catch (err) {
    deps.log.debug({ err }, `USB hotplug hints off: ${describeError(err)}`);
    return undefined;
  }
  const on = emitter;
  return {
    stop() {
      try {
        on.removeEventListener('connect', onAttach);
        on.removeEventListener('disconnect', onDetach);
      } catch {
        // Stopping hints must never fail the module's stop.
      }
    },
  };
}
