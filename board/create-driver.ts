import type { BoardDriver } from './board.js';
import type { FirmataOptions } from './firmata-driver.js';
import type { GpioOptions } from './gpio-driver.js';
import { NoopDriver } from './noop-driver.js';

/** The `board` configuration as the drivers need it (agent/board/board-config.ts is its schema). */
export interface BoardSettings {
  driver: 'none' | 'gpio' | 'firmata';
  gpio: GpioOptions;
  firmata: FirmataOptions;
}

export interface DriverEnv {
  /** Environment of the gpiod tools. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds the configured driver. The GPIO and Firmata drivers are imported on demand, so a box
 * without them configured loads neither (nor johnny-five).
 */
export async function createDriver(settings: BoardSettings, extra: DriverEnv = {}): Promise<BoardDriver> {
  switch (settings.driver) {
    case 'gpio': {
      const { GpioDriver } = await import('./gpio-driver.js');
      return new GpioDriver({ options: settings.gpio, ...(extra.env ? { env: extra.env } : {}) });
    }
    case 'firmata': {
      const { FirmataDriver } = await import('./firmata-driver.js');
      return new FirmataDriver({ options: settings.firmata });
    }
    case 'none':
      return new NoopDriver();
  }
}
