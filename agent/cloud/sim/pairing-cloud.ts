import { randomBytes } from 'node:crypto';
import { PairingErrorCode, PAIRING_MESSAGES, newUserCode, normalizeUserCode, seal, type PairingEnvelope, type PairingReplyPlain, type PairingRequest } from '../pairing-protocol.js';

export interface IssuedCredentials {
  username: string;
  password: string;
}

export interface PairingCloudOptions {
  /** How long a user code is valid (RFC 8628 `expires_in`), seconds. */
  codeTtlSeconds?: number;
  /** How often the box polls (RFC 8628 `interval`), seconds. */
  intervalSeconds?: number;
  verificationUri?: string;
  now?: () => number;
  /** Makes the box's own broker account (dynamic security) or just random credentials (open broker). */
  issue: (boxId: string) => Promise<IssuedCredentials>;
  /** Removes the box's broker account (unpairing). */
  revoke: (boxId: string) => Promise<void>;
}

type Phase = 'pending' | 'approved' | 'denied' | 'consumed';

interface PendingPairing {
  requestId: string;
  boxId: string;
  publicKey: string;
  secret: string;
  userCode: string;
  expiresAt: number;
  phase: Phase;
  account?: { id: string; name: string };
  credentials?: IssuedCredentials;
}

export interface PairingSummary {
  userCode: string;
  boxId: string;
  phase: Phase | 'expired';
  expiresAt: string;
  account?: { id: string; name: string };
}

export class PairingOpError extends Error {
  readonly code: PairingErrorCode;
  constructor(code: PairingErrorCode) {
    super(PAIRING_MESSAGES[code].en);
    this.code = code;
  }
}

/**
 * The cloud's side of pairing, without MQTT: pending requests with their user codes and expiry,
 * approve/deny by code (what a person does in the practice's cloud account), credential delivery
 * exactly once (the box acknowledges; a code is never usable again), and unpairing.
 */
export class PairingCloud {
  readonly #opts: PairingCloudOptions;
  readonly #byRequest = new Map<string, PendingPairing>();
  readonly #byCode = new Map<string, PendingPairing>();
  readonly unpaired: string[] = [];

  constructor(opts: PairingCloudOptions) {
    this.#opts = opts;
  }

  /** Changes the lifetime of codes issued from now on (tests: expiry). */
  setCodeTtl(seconds: number): void {
    this.#opts.codeTtlSeconds = seconds;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  /** Answers one request from a box; undefined = ignore (nothing to answer). */
  handle(req: PairingRequest): PairingEnvelope | undefined {
    if (req.op === 'start') {
      if (this.#byRequest.has(req.requestId)) return { requestId: req.requestId, error: { code: PairingErrorCode.Invalid, message: 'request id already used' } };
      let userCode = newUserCode();
      while (this.#byCode.has(userCode)) userCode = newUserCode();
      const ttl = this.#opts.codeTtlSeconds ?? 600;
      const p: PendingPairing = { requestId: req.requestId, boxId: req.boxId, publicKey: req.publicKey, secret: req.secret, userCode, expiresAt: this.#now() + ttl * 1000, phase: 'pending' };
      this.#byRequest.set(p.requestId, p);
      this.#byCode.set(userCode, p);
      const uri = this.#opts.verificationUri ?? 'https://cloud.praxisbox.example/koppeln';
      return this.#sealed(p, { type: 'started', userCode, verificationUri: uri, verificationUriComplete: `${uri}?code=${encodeURIComponent(userCode)}`, expiresIn: ttl, interval: this.#opts.intervalSeconds ?? 5 });
    }
    const p = this.#byRequest.get(req.requestId);
    if (!p || p.secret !== req.secret) return { requestId: req.requestId, error: { code: PairingErrorCode.Invalid, message: 'unknown pairing request' } };
    if (req.op === 'ack') {
      if (p.phase === 'approved') {
        p.phase = 'consumed';
        delete p.credentials;
      }
      return undefined;
    }
    const fail = (code: PairingErrorCode): PairingEnvelope => this.#sealed(p, { type: 'error', code, message: PAIRING_MESSAGES[code].en });
    if (p.phase === 'consumed') return fail(PairingErrorCode.CodeUsed);
    if (p.phase === 'denied') return fail(PairingErrorCode.Denied);
    if (p.phase === 'approved' && p.credentials && p.account) {
      return this.#sealed(p, { type: 'approved', username: p.credentials.username, password: p.credentials.password, account: p.account });
    }
    if (this.#now() >= p.expiresAt) return fail(PairingErrorCode.Expired);
    return this.#sealed(p, { type: 'pending' });
  }

  /** A person approves the code in the account: the box's credentials are made now. */
  async approve(code: string, account?: { id?: string; name?: string }): Promise<PairingSummary> {
    const p = this.#find(code);
    if (p.phase === 'denied') throw new PairingOpError(PairingErrorCode.Denied);
    if (p.phase !== 'pending') throw new PairingOpError(PairingErrorCode.CodeUsed);
    if (this.#now() >= p.expiresAt) throw new PairingOpError(PairingErrorCode.Expired);
    p.phase = 'approved';
    p.account = { id: account?.id ?? `acct-${randomBytes(4).toString('hex')}`, name: account?.name ?? 'Praxis (cloud-sim)' };
    try {
      p.credentials = await this.#opts.issue(p.boxId);
    } catch (err) {
      p.phase = 'pending';
      delete p.account;
      throw err;
    }
    return this.#summary(p);
  }

  deny(code: string): PairingSummary {
    const p = this.#find(code);
    if (p.phase === 'denied') throw new PairingOpError(PairingErrorCode.Denied);
    if (p.phase !== 'pending') throw new PairingOpError(PairingErrorCode.CodeUsed);
    if (this.#now() >= p.expiresAt) throw new PairingOpError(PairingErrorCode.Expired);
    p.phase = 'denied';
    return this.#summary(p);
  }

  /** The box said it unpaired (over its own authenticated link): its account goes. */
  async unpair(boxId: string): Promise<void> {
    this.unpaired.push(boxId);
    await this.#opts.revoke(boxId);
  }

  list(): PairingSummary[] {
    return [...this.#byRequest.values()].map((p) => this.#summary(p));
  }

  #find(code: string): PendingPairing {
    const normal = normalizeUserCode(code);
    const p = normal === undefined ? undefined : this.#byCode.get(normal);
    if (!p) throw new PairingOpError(PairingErrorCode.UnknownCode);
    return p;
  }

  #summary(p: PendingPairing): PairingSummary {
    const expired = p.phase === 'pending' && this.#now() >= p.expiresAt;
    return { userCode: p.userCode, boxId: p.boxId, phase: expired ? 'expired' : p.phase, expiresAt: new Date(p.expiresAt).toISOString(), ...(p.account ? { account: p.account } : {}) };
  }

  #sealed(p: PendingPairing, plain: PairingReplyPlain): PairingEnvelope {
    return { requestId: p.requestId, sealed: seal(plain, p.publicKey) };
  }
}
