import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { invalidInput } from '../core/errors.js';
import { PrintError } from './print-error.js';

/**
 * How the box trusts an `ipps://` printer. Office printers ship self-signed certificates whose
 * names rarely match how the box reaches them, so "check the chain and the host name" (the `ca` and
 * `system` modes) is often impossible; pinning the printer's own certificate is the usual setup.
 */
export type TlsTrust =
  /** SHA-256 fingerprints of the printer's leaf certificate (Node's `fingerprint256` form; colons and case optional). */
  | { kind: 'pinned'; sha256: readonly string[] }
  /** Chain to this CA (PEM); the host name is checked against `serverName` when given, else the URI host. */
  | { kind: 'ca'; ca: string | Buffer; serverName?: string }
  /** Node's built-in CA list and the URI host name. */
  | { kind: 'system' };

/** `AB:CD:…` upper case, or an InvalidInput error when it is not 32 bytes of hex. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw invalidInput('certificate fingerprint must be a SHA-256 hash (64 hex digits)');
  return hex.match(/../g)?.join(':') ?? hex;
}

interface TrustingAgentOptions {
  trust: TlsTrust;
  keepAlive: boolean;
  /** A TLS handshake that makes no progress for this long is abandoned. */
  handshakeTimeoutMs: number;
}

/**
 * An http.Agent whose sockets are TLS connections checked *before* the agent hands them to a request:
 * with a pinned certificate the chain cannot be validated (self-signed), so Node's own check is off
 * and the fingerprint is compared on `secureConnect`; only then is the socket released, so not one
 * byte of the request (Basic credentials included) reaches a printer that failed the check.
 */
export class TrustingAgent extends http.Agent {
  readonly #trust: TlsTrust;
  readonly #pins: ReadonlySet<string>;
  readonly #handshakeTimeoutMs: number;

  constructor(options: TrustingAgentOptions) {
    super({ keepAlive: options.keepAlive, maxSockets: 4 });
    this.#trust = options.trust;
    this.#pins = new Set(options.trust.kind === 'pinned' ? options.trust.sha256.map(normalizeFingerprint) : []);
    if (options.trust.kind === 'pinned' && this.#pins.size === 0) throw invalidInput('a pinned printer needs at least one certificate fingerprint');
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs;
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.host ?? 'localhost';
    const trust = this.#trust;
    const socket = tls.connect({
      host,
      port: Number(options.port),
      // SNI must not carry an IP address (RFC 6066 §3).
      ...(net.isIP(host) ? {} : { servername: host }),
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: trust.kind !== 'pinned',
      ...(trust.kind === 'ca' ? { ca: trust.ca } : {}),
      ...(trust.kind === 'ca' && trust.serverName
        ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(trust.serverName ?? _host, cert) }
        : {}),
    });
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.removeListener('error', settle);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    socket.setTimeout(this.#handshakeTimeoutMs, () => {
      settle(Object.assign(new Error('TLS handshake with the printer timed out'), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', settle);
    socket.once('secureConnect', () => {
      if (trust.kind === 'pinned') {
        const seen = socket.getPeerCertificate().fingerprint256;
        if (!seen || !this.#pins.has(seen)) {
          settle(
            new PrintError('tls-untrusted', `printer certificate ${seen ?? '(none)'} does not match the pinned fingerprint`, {
              details: { fingerprint256: seen },
            }),
          );
          return;
        }
      }
      settle(null);
    });
    return undefined;
  }
}

/**
 * The fingerprint and validity of the certificate a printer presents, without trusting it — for the
 * setup page's "pin this certificate?" step (the IT provider compares it with the printer's panel).
 */
export function probeCertificate(host: string, port: number, timeoutMs: number): Promise<{ fingerprint256: string; subject: string; validTo: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      const cn = cert.subject?.CN;
      resolve({ fingerprint256: cert.fingerprint256, subject: Array.isArray(cn) ? cn.join(', ') : (cn ?? ''), validTo: cert.valid_to });
    });
  });
}
