import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, syncDir, writeFileDurable } from '../core/durable-file.js';
import { invalidInput } from '../core/errors.js';
import { PRINTER_ID_PATTERN } from './printing-config.js';

/**
 * Printer passwords (HTTP Basic), one 0600 file per printer id in a 0700 directory. They are kept
 * out of the configuration on purpose: `config.get` replies and support bundles must not carry
 * them, and a redacted value in the config would be written back by the next `config.replace`.
 */
export class PrinterSecrets {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(printerId: string): string {
    if (!new RegExp(PRINTER_ID_PATTERN).test(printerId)) throw invalidInput('not a printer id');
    return path.join(this.#dir, `${printerId}.password`);
  }

  async get(printerId: string): Promise<string | undefined> {
    const data = await readIfExists(this.#file(printerId));
    return data === undefined ? undefined : data.toString('utf8');
  }

  async set(printerId: string, password: string): Promise<void> {
    await ensurePrivateDir(this.#dir);
    await writeFileDurable(this.#file(printerId), password, 0o600);
  }

  async remove(printerId: string): Promise<boolean> {
    const file = this.#file(printerId);
    try {
      await fs.rm(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await syncDir(this.#dir);
    return true;
  }
}
