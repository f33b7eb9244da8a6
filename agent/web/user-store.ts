import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeFileDurable } from '../core/durable-file.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

/** The one administrator account of the web UI. */
export const ADMIN_USER = 'admin';

export interface StoredUser {
  /** `scrypt$N$r$p$salt$hash` (see passwords.ts). */
  hash: string;
  changedAt: string;
}

export interface UsersFile {
  version: 1;
  users: Record<string, StoredUser>;
}

/**
 * `<dataDir>/web/users.json` (0600, written durably: temp file, fsync, rename, fsync the directory).
 * No admin in it = setup not done. A file that cannot be parsed is an error, never "setup not
 * done": that would let the setup code take over a configured box.
 */
export class UserStore {
  readonly file: string;
  #data: UsersFile = { version: 1, users: {} };

  constructor(dir: string) {
    this.file = path.join(dir, 'users.json');
  }

  async load(): Promise<void> {
    this.#data = await readUsersFile(this.file);
  }

  get(user: string): StoredUser | undefined {
    return Object.hasOwn(this.#data.users, user) ? this.#data.users[user] : undefined;
  }

  get setupDone(): boolean {
    return this.get(ADMIN_USER) !== undefined;
  }

  async setHash(user: string, hash: string, now: number): Promise<void> {
    const next: UsersFile = { version: 1, users: { ...this.#data.users, [user]: { hash, changedAt: new Date(now).toISOString() } } };
    await writeUsersFile(this.file, next);
    this.#data = next;
  }
}

export async function readUsersFile(file: string): Promise<UsersFile> {
  const buf = await readIfExists(file);
  if (buf === undefined) return { version: 1, users: {} };
  try {
    const doc = JSON.parse(buf.toString('utf8')) as UsersFile;
    if (doc.version !== 1 || typeof doc.users !== 'object' || doc.users === null) throw new Error('shape');
    for (const u of Object.values(doc.users)) if (typeof u.hash !== 'string') throw new Error('shape');
    return doc;
  } catch {
    throw new PraxisboxError(ErrorCode.Corrupt, `web user file ${path.basename(file)} is malformed; reset it with "praxisbox web reset-password"`);
  }
}

export async function writeUsersFile(file: string, data: UsersFile): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  await writeFileDurable(file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
}
