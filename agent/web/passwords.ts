import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt parameters: N=2^15, r=8, p=1 (about 32 MiB and ~100 ms on a Raspberry Pi 4). */
const PARAMS = { N: 1 << 15, r: 8, p: 1, keyLen: 32 } as const;
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, keyLen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64url), self-describing so parameters can grow later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, PARAMS.keyLen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: MAXMEM });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (![N, R, P].every((x) => Number.isInteger(x) && x > 0) || expected.length < 16) return false;
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N, r: R, p: P, maxmem: MAXMEM });
  return timingSafeEqual(key, expected);
}

/** Passwords people pick first; a password equal to one of these (or to one plus digits) is refused. */
const COMMON = [
  'passwort', 'password', 'kennwort', 'geheim', 'qwertz', 'qwerty', 'asdfgh', 'admin', 'administrator',
  'praxis', 'arztpraxis', 'willkommen', 'welcome', 'letmein', 'hallo', 'sommer', 'winter', 'fruehling',
  'herbst', 'schatz', 'iloveyou', 'abc123', 'root', 'test', 'login', 'changeme', 'sicher', 'start',
];

/**
 * scrypt needs 32 MiB per running hash: a flood of login requests must not run hundreds at once
 * on a 1-4 GiB box. At most `concurrency` run, `queue` more wait; beyond that `run` answers busy.
 */
export class HashGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly concurrency = 2,
    readonly queue = 16,
  ) {}

  /** Runs `fn` when a slot is free; undefined when too many are already waiting. */
  async run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.queue) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running += 1;
    try {
      return await fn();
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }
}

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 200;

/**
 * The strength rule, as a German message for the form, or undefined when the password is fine:
 * at least 10 characters, not one repeated or sequential run, not a common word (plus digits),
 * and not containing "praxisbox" or the box id.
 */
export function passwordProblem(password: string, boxId: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `Das Passwort muss mindestens ${MIN_PASSWORD_LENGTH} Zeichen lang sein.`;
  if (password.length > MAX_PASSWORD_LENGTH) return `Das Passwort darf höchstens ${MAX_PASSWORD_LENGTH} Zeichen lang sein.`;
  const lower = password.toLowerCase();
  if (lower.includes('praxisbox') || (boxId !== '' && lower.includes(boxId.toLowerCase())) || (boxId.length > 4 && lower.includes(boxId.slice(4).toLowerCase()))) {
    return 'Das Passwort darf weder „praxisbox“ noch die Kennung dieser Box enthalten.';
  }
  if (new Set(lower).size <= 3) return 'Das Passwort besteht aus zu wenigen verschiedenen Zeichen.';
  if (isSequence(lower)) return 'Das Passwort ist eine einfache Zeichenfolge (z. B. 1234567890). Bitte ein anderes wählen.';
  const stem = lower.replace(/[\d\s!.?_-]+$/, '').replace(/^[\d\s]+/, '');
  if (COMMON.includes(stem) || stem === '') return 'Dieses Passwort ist zu verbreitet und leicht zu erraten. Bitte ein anderes wählen.';
  return undefined;
}

const RUNS = ['01234567890', 'abcdefghijklmnopqrstuvwxyz', 'qwertzuiopü', 'asdfghjklöä', 'yxcvbnm', 'qwertyuiop', 'zxcvbnm'];

/** A run along the digits, the alphabet or a keyboard row (either direction). */
function isSequence(s: string): boolean {
  return RUNS.some((run) => run.includes(s) || [...run].reverse().join('').includes(s));
}
