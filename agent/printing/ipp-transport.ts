import http from 'node:http';
import { invalidInput } from '../core/errors.js';
import { openDocument, type DocumentSource, type OpenedDocument } from './document-upload.js';
import { PrintError, errorForSystem } from './print-error.js';
import { TrustingAgent, type TlsTrust } from './tls-trust.js';

/**
 * IPP over HTTP (RFC 8010 §4): one POST per operation, `Content-Type: application/ipp`, the
 * encoded message followed by the document. The document is piped (chunked, or with
 * Content-Length when the caller knows it) so a 50 MB PDF never sits in memory.
 */

export interface PrinterEndpoint {
  /** `ipp://host[:port]/path` or `ipps://…` (default port 631 for both: RFC 3510, RFC 7472). */
  uri: string;
  /** Required for ipps://; ignored for ipp://. */
  tls?: TlsTrust;
  /** HTTP Basic credentials, sent with every request (use ipps: Basic itself is cleartext). */
  auth?: { username: string; password: string };
}

export interface IppExchange {
  /** Name used in error messages (the IPP operation). */
  operation: string;
  message: Buffer;
  document?: DocumentSource;
  /** Exact document size in bytes when known: sent as Content-Length instead of chunked encoding. */
  documentLength?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Safe to send twice: a reset on a reused keep-alive socket is then retried once. */
  idempotent: boolean;
}

export interface TransportOptions {
  endpoint: PrinterEndpoint;
  /** No bytes in either direction for this long ends the request (independent of the total timeout). */
  idleTimeoutMs: number;
  maxResponseBytes: number;
}

interface HttpTarget {
  secure: boolean;
  host: string;
  port: number;
  path: string;
}

export function httpTargetOf(printerUri: string): HttpTarget {
  let url: URL;
  try {
    url = new URL(printerUri);
  } catch {
    throw invalidInput('printer URI is not a valid URI');
  }
  if (url.protocol !== 'ipp:' && url.protocol !== 'ipps:') throw invalidInput('printer URI must start with ipp:// or ipps://');
  if (url.username || url.password) throw invalidInput('printer URI must not carry credentials; configure them separately');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { secure: url.protocol === 'ipps:', host, port: url.port ? Number(url.port) : 631, path: `${url.pathname || '/'}${url.search}` };
}

export class IppTransport {
  readonly #target: HttpTarget;
  readonly #options: TransportOptions;
  /** Queries share keep-alive connections; a document upload gets its own (see `exchange`). */
  readonly #pooled: http.Agent;
  readonly #fresh: http.Agent;
  readonly #authorization: string | undefined;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#target = httpTargetOf(options.endpoint.uri);
    const { tls: trust, auth } = options.endpoint;
    if (this.#target.secure) {
      if (!trust) throw invalidInput('an ipps:// printer needs a TLS trust setting (pinned certificate, CA or system)');
      this.#pooled = new TrustingAgent({ trust, keepAlive: true, handshakeTimeoutMs: options.idleTimeoutMs });
      this.#fresh = new TrustingAgent({ trust, keepAlive: false, handshakeTimeoutMs: options.idleTimeoutMs });
    } else {
      this.#pooled = new http.Agent({ keepAlive: true, maxSockets: 4 });
      this.#fresh = new http.Agent({ keepAlive: false });
    }
    this.#authorization = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` : undefined;
  }

  get secure(): boolean {
    return this.#target.secure;
  }

  /** Sends one request and returns the response body of an HTTP 200; everything else is a PrintError. */
  async exchange(x: IppExchange): Promise<Buffer> {
    try {
      return await this.#once(x, false);
    } catch (err) {
      if (x.idempotent && err instanceof StaleSocketError) return this.#once(x, true);
      throw err instanceof StaleSocketError ? err.error : err;
    }
  }

  close(): void {
    this.#pooled.destroy();
    this.#fresh.destroy();
  }

  async #once(x: IppExchange, isRetry: boolean): Promise<Buffer> {
    const timeout = AbortSignal.timeout(x.timeoutMs);
    const signal = x.signal ? AbortSignal.any([timeout, x.signal]) : timeout;
    const doc = x.document ? await openDocument(x.document, x.documentLength) : undefined;
    try {
      return await this.#send(x, isRetry, doc, timeout, signal);
    } finally {
      await doc?.close().catch(() => undefined);
    }
  }

  async #send(x: IppExchange, isRetry: boolean, doc: OpenedDocument | undefined, timeout: AbortSignal, signal: AbortSignal): Promise<Buffer> {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/ipp', Accept: 'application/ipp' };
    if (this.#authorization) headers['Authorization'] = this.#authorization;
    if (!doc) headers['Content-Length'] = x.message.length;
    else if (doc.length !== undefined) headers['Content-Length'] = x.message.length + doc.length;
    // A long upload on a pooled socket the printer may just be closing cannot be replayed, so
    // documents always go over a new connection; queries reuse one (ipptool does the same).
    const agent = doc || isRetry ? this.#fresh : this.#pooled;
    const req = http.request({ host: this.#target.host, port: this.#target.port, path: this.#target.path, method: 'POST', headers, agent, signal });
    req.setTimeout(this.#options.idleTimeoutMs, () => req.destroy(Object.assign(new Error('idle'), { code: 'ETIMEDOUT' })));

    let requestComplete = false;
    const response = this.#readResponse(req, x.operation, () => requestComplete);
    const send = (async () => {
      req.write(x.message);
      if (doc) {
        await doc.send(req);
      } else {
        await new Promise<void>((resolve, reject) => req.end((err?: Error | null) => (err ? reject(err) : resolve())));
      }
      requestComplete = true;
    })();
    // A printer may answer (401, busy) before it has read the whole document and close the
    // socket: the answer then wins over the broken upload.
    const sent = send.catch((e: unknown) => e);
    try {
      const body = await response;
      const sendFailure = await Promise.race([sent, Promise.resolve('pending')]);
      if (sendFailure === 'pending') req.destroy();
      return body;
    } catch (err) {
      const sendFailure = await Promise.race([sent, new Promise((r) => setTimeout(r, 0, undefined))]);
      req.destroy();
      if (doc?.failure !== undefined) {
        throw new PrintError('document-unreadable', 'the document could not be read while sending', { cause: doc.failure, requestComplete: false });
      }
      if (x.signal?.aborted) throw new PrintError('aborted', `${x.operation} was aborted by the caller`, { cause: x.signal.reason, requestComplete });
      if (timeout.aborted) throw new PrintError('timeout', `printer did not complete ${x.operation} within ${x.timeoutMs} ms`, { requestComplete });
      const failure = err instanceof PrintError ? err : errorForSystem(err instanceof Error ? err : sendFailure, requestComplete);
      const code = (err as { code?: unknown } | undefined)?.code;
      if (req.reusedSocket && !isRetry && (code === 'ECONNRESET' || code === 'EPIPE')) throw new StaleSocketError(failure);
      throw failure;
    }
  }

  #readResponse(req: http.ClientRequest, operation: string, requestComplete: () => boolean): Promise<Buffer> {
    const max = this.#options.maxResponseBytes;
    return new Promise<Buffer>((resolve, reject) => {
      req.on('error', reject);
      req.once('response', (res) => {
        res.on('error', reject);
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          reject(httpStatusError(status, operation, requestComplete()));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            reject(new PrintError('protocol', `printer response to ${operation} exceeds ${max} bytes`, { requestComplete: requestComplete() }));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.once('end', () => resolve(Buffer.concat(chunks, size)));
      });
    });
  }
}

/** A keep-alive socket the printer had already closed: the request never reached it. */
class StaleSocketError extends Error {
  constructor(readonly error: PrintError) {
    super('stale keep-alive socket');
  }
}

function httpStatusError(status: number, operation: string, requestComplete: boolean): PrintError {
  const opts = { requestComplete, details: { httpStatus: status } };
  if (status === 401) return new PrintError('auth-failed', `printer refused the credentials for ${operation} (HTTP 401)`, opts);
  if (status === 403) return new PrintError('auth-failed', `printer forbids ${operation} for this user (HTTP 403)`, opts);
  if (status === 426) return new PrintError('tls-required', 'printer requires an encrypted connection: use an ipps:// URI (HTTP 426)', opts);
  if (status === 413) return new PrintError('rejected', `printer refused the request size of ${operation} (HTTP 413)`, opts);
  if (status >= 500) return new PrintError('unavailable', `printer failed ${operation} with HTTP ${status}`, opts);
  return new PrintError('protocol', `printer answered ${operation} with HTTP ${status}`, opts);
}
