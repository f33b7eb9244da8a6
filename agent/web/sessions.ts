import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';

export interface Session {
  id: string;
  user: string;
  csrfToken: string;
  createdAt: number;
  lastSeen: number;
}

export interface SessionStoreOptions {
  /** A session ends after this long without a request. */
  idleMs: number;
  /** ... and after this long in any case. */
  absoluteMs: number;
  maxSessions: number;
}

/**
 * Server-side sessions in memory: a random 256-bit id in the cookie, everything else here. A restart
 * of the agent logs everyone out (documented). Ids are looked up by their SHA-256, so a timing
 * difference in the map lookup says nothing about a valid id.
 */
export class SessionStore {
  readonly #opts: () => SessionStoreOptions;
  readonly #sessions = new Map<string, Session>();

  /** Options are read at each use, so a changed `web` configuration applies at once. */
  constructor(opts: () => SessionStoreOptions) {
    this.#opts = opts;
  }

  create(user: string, now: number): Session {
    this.#prune(now);
    const session: Session = { id: randomBytes(32).toString('base64url'), user, csrfToken: randomBytes(32).toString('base64url'), createdAt: now, lastSeen: now };
    this.#sessions.set(digest(session.id), session);
    while (this.#sessions.size > this.#opts().maxSessions) this.#sessions.delete(this.#sessions.keys().next().value as string);
    return session;
  }

  /** The live session for a cookie value (its idle time restarts), or undefined. */
  get(id: string | undefined, now: number): Session | undefined {
    if (id === undefined || id === '' || id.length > 100) return undefined;
    const key = digest(id);
    const s = this.#sessions.get(key);
    if (!s) return undefined;
    if (now - s.lastSeen > this.#opts().idleMs || now - s.createdAt > this.#opts().absoluteMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(digest(id));
  }

  /** Ends every session (a password change or reset); returns how many ended. */
  clear(): number {
    const n = this.#sessions.size;
    this.#sessions.clear();
    return n;
  }

  get size(): number {
    return this.#sessions.size;
  }

  #prune(now: number): void {
    for (const [key, s] of this.#sessions) {
      if (now - s.lastSeen > this.#opts().idleMs || now - s.createdAt > this.#opts().absoluteMs) this.#sessions.delete(key);
    }
  }
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** Constant-time string comparison for tokens (length leaks only whether it is the right length). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
