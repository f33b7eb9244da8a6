import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface LazyAppServerOptions {
  tls?: { key: string; cert: string };
  /**
   * Builds the application on the first request and returns its request handler. Loading fastify
   * and its plugins costs ~9 MB of resident memory; a box whose page nobody has opened since it
   * started does not pay it (the idle-RSS budget in docs/agent.md).
   */
  load: (server: http.Server) => Promise<RequestHandler>;
  /** Called when loading failed; the request gets a plain 503 and the next request tries again. */
  onLoadError: (err: unknown) => void;
}

/**
 * The web UI's listening socket: a plain Node HTTP(S) server that is listening from the module's
 * start (so the port is held and the URL is known), and hands requests to the application once
 * it is built. Requests that arrive while it loads wait for it; their bodies stay buffered in the
 * paused request streams.
 */
export class LazyAppServer {
  readonly server: http.Server;
  #handler: RequestHandler | undefined;
  #loading: Promise<RequestHandler> | undefined;
  readonly #options: LazyAppServerOptions;

  constructor(options: LazyAppServerOptions) {
    this.#options = options;
    const onRequest: RequestHandler = (req, res) => this.#route(req, res);
    this.server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' }, onRequest)
      : http.createServer(onRequest);
    this.server.requestTimeout = 60_000;
  }

  /** Whether the application has been built (the first request arrived). */
  get loaded(): boolean {
    return this.#handler !== undefined;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Builds the application now (tests and callers that want the first request to be fast). */
  async ready(): Promise<void> {
    await this.#load();
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #load(): Promise<RequestHandler> {
    this.#loading ??= this.#options.load(this.server).then(
      (handler) => (this.#handler = handler),
      (err: unknown) => {
        this.#loading = undefined;
        throw err;
      },
    );
    return this.#loading;
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#handler) return this.#handler(req, res);
    this.#load().then(
      (handler) => handler(req, res),
      (err: unknown) => {
        this.#options.onLoadError(err);
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
        res.end('Die Weboberfläche startet gerade nicht; bitte gleich noch einmal versuchen.');
      },
    );
  }
}
