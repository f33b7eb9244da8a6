import path from 'node:path';
import { readIfExists, writeFileDurable, ensurePrivateDir } from '../core/durable-file.js';

/** What the cloud link remembers across restarts. */
export interface CloudState {
  /** Connection counter for presence: increases before every connection attempt. */
  session: number;
  /** The last `config/desired` version applied (0 = none yet). */
  appliedConfigVersion: number;
}

export class CloudStateFile {
  readonly #file: string;
  #state: CloudState = { session: 0, appliedConfigVersion: 0 };

  constructor(dir: string) {
    this.#file = path.join(dir, 'state.json');
  }

  async load(): Promise<CloudState> {
    await ensurePrivateDir(path.dirname(this.#file));
    const buf = await readIfExists(this.#file);
    if (buf) {
      const parsed = JSON.parse(buf.toString('utf8')) as Partial<CloudState>;
      this.#state = {
        session: Number.isSafeInteger(parsed.session) ? (parsed.session as number) : 0,
        appliedConfigVersion: Number.isSafeInteger(parsed.appliedConfigVersion) ? (parsed.appliedConfigVersion as number) : 0,
      };
    }
    return this.get();
  }

  get(): CloudState {
    return { ...this.#state };
  }

  /** Durably increments the session counter, so a crash never reuses a session number. */
  async nextSession(): Promise<number> {
    const next = { ...this.#state, session: this.#state.session + 1 };
    await writeFileDurable(this.#file, JSON.stringify(next));
    this.#state = next;
    return next.session;
  }

  async setAppliedConfigVersion(version: number): Promise<void> {
    const next = { ...this.#state, appliedConfigVersion: version };
    await writeFileDurable(this.#file, JSON.stringify(next));
    this.#state = next;
  }
}

/** Credentials from pairing: username/password token; a client certificate is configured by file. */
export interface CloudCredentials {
  username?: string;
  password?: string;
}

export async function loadCredentials(file: string): Promise<CloudCredentials> {
  const buf = await readIfExists(file);
  if (!buf) return {};
  const parsed = JSON.parse(buf.toString('utf8')) as CloudCredentials;
  return {
    ...(typeof parsed.username === 'string' ? { username: parsed.username } : {}),
    ...(typeof parsed.password === 'string' ? { password: parsed.password } : {}),
  };
}
