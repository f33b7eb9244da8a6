import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, syncDir, writeFileDurable } from '../core/durable-file.js';

/** What pairing leaves on the box: `credentials.json` in the cloud dir (0600), read by the cloud link. */
export interface PairedCredentials {
  username: string;
  password: string;
  account: { id: string; name: string };
  pairedAt: string;
}

export const CREDENTIALS_FILE = 'credentials.json';

export class PairingStore {
  readonly #file: string;

  constructor(dir: string) {
    this.#file = path.join(dir, CREDENTIALS_FILE);
  }

  get file(): string {
    return this.#file;
  }

  /** The pairing on disk; undefined when unpaired (or when the file holds credentials made by hand, without an account). */
  async load(): Promise<Omit<PairedCredentials, 'password' | 'username'> | undefined> {
    const buf = await readIfExists(this.#file);
    if (!buf) return undefined;
    const parsed = JSON.parse(buf.toString('utf8')) as Partial<PairedCredentials>;
    if (typeof parsed.account?.id !== 'string' || typeof parsed.pairedAt !== 'string') return undefined;
    return { account: { id: parsed.account.id, name: String(parsed.account.name ?? '') }, pairedAt: parsed.pairedAt };
  }

  async save(creds: PairedCredentials): Promise<void> {
    await ensurePrivateDir(path.dirname(this.#file));
    await writeFileDurable(this.#file, `${JSON.stringify(creds, null, 2)}\n`, 0o600);
  }

  async remove(): Promise<void> {
    await fs.rm(this.#file, { force: true });
    await syncDir(path.dirname(this.#file)).catch(() => undefined);
  }
}
