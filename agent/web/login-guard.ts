export interface LoginGuardOptions {
  /** Failures from one client address before that address is locked out. */
  maxFailures: number;
  /** Failures from all addresses together before the account itself is locked out. */
  maxUserFailures: number;
  lockoutMs: number;
  /** Each further lockout of the same key doubles, up to lockoutMs + maxExtraMs. */
  maxExtraMs: number;
  /** Client addresses remembered at most (oldest forgotten first). */
  maxKeys: number;
}

interface Entry {
  failures: number;
  lockouts: number;
  lockedUntil: number;
  touched: number;
}

export type GuardVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Login (and setup-code) rate limit: per client address and, with a higher threshold, for the one
 * account from all addresses together. Reaching a threshold locks the key for `lockoutMs`, doubling
 * with each repeated lockout (backoff). A success clears the address and the account. Pure, in memory.
 */
export class LoginGuard {
  readonly #opts: () => LoginGuardOptions;
  readonly #entries = new Map<string, Entry>();

  /** Options are read at each use, so a changed `web` configuration applies at once. */
  constructor(opts: () => LoginGuardOptions) {
    this.#opts = opts;
  }

  /** Whether an attempt from `ip` for `user` may be checked at all right now. */
  check(ip: string, user: string, now: number): GuardVerdict {
    let until = 0;
    for (const key of [`ip:${ip}`, `user:${user}`]) {
      const e = this.#entries.get(key);
      if (e && e.lockedUntil > now) until = Math.max(until, e.lockedUntil);
    }
    return until > now ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) } : { allowed: true };
  }

  /** Records a failed attempt; returns the lockout it caused, if any. */
  fail(ip: string, user: string, now: number): GuardVerdict {
    this.#bump(`ip:${ip}`, this.#opts().maxFailures, now);
    this.#bump(`user:${user}`, this.#opts().maxUserFailures, now);
    return this.check(ip, user, now);
  }

  succeed(ip: string, user: string): void {
    this.#entries.delete(`ip:${ip}`);
    this.#entries.delete(`user:${user}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  #bump(key: string, max: number, now: number): void {
    const e = this.#entries.get(key) ?? { failures: 0, lockouts: 0, lockedUntil: 0, touched: now };
    // Forget an address's history a day after its last attempt (the backoff resets then).
    if (now - e.touched > 24 * 3600_000) Object.assign(e, { failures: 0, lockouts: 0, lockedUntil: 0 });
    e.failures += 1;
    e.touched = now;
    if (e.failures >= max) {
      const extra = Math.min(this.#opts().lockoutMs * (2 ** e.lockouts - 1), this.#opts().maxExtraMs);
      e.lockedUntil = now + this.#opts().lockoutMs + extra;
      e.lockouts += 1;
      e.failures = 0;
    }
    this.#entries.delete(key);
    this.#entries.set(key, e);
    while (this.#entries.size > this.#opts().maxKeys) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
