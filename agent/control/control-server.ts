import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { CommandDispatcher } from '../core/commands.js';
import type { Logger } from '../core/logger.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { ensurePrivateDir } from '../core/durable-file.js';
import { callAgent } from './control-client.js';

export interface ControlServerDeps {
  socketPath: string;
  dispatcher: CommandDispatcher;
  log: Logger;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The local control socket: HTTP over a unix socket (mode 0600, so only the agent's user and root)
 * that `praxisbox status` / `config` use to reach the running agent. It calls the same command
 * dispatcher as MQTT and the web UI: `POST /v1/command` with `{name, args}`.
 */
export class ControlServer implements AgentModule {
  readonly name = 'control';
  readonly #deps: ControlServerDeps;
  #server: http.Server | undefined;
  #requests = 0;

  constructor(deps: ControlServerDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { socketPath } = this.#deps;
    await ensurePrivateDir(path.dirname(socketPath));
    await this.#clearStaleSocket(socketPath);
    const server = http.createServer((req, res) => void this.#handle(req, res));
    server.headersTimeout = 5_000;
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await fs.chmod(socketPath, 0o600);
    this.#server = server;
  }

  /** A socket file left by a killed agent blocks listen(); one that still answers means a second agent. */
  async #clearStaleSocket(socketPath: string): Promise<void> {
    try {
      await fs.lstat(socketPath);
    } catch {
      return;
    }
    const alive = await callAgent(socketPath, 'ping', {}, 1_000).then(
      () => true,
      () => false,
    );
    if (alive) throw new PraxisboxError(ErrorCode.CommandRejected, `another agent is already running (control socket ${socketPath} answers)`);
    await fs.rm(socketPath, { force: true });
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.#requests += 1;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v1/command') {
      send(404, { status: 'error', error: { code: ErrorCode.NotFound, message: 'use POST /v1/command' } });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        send(413, { status: 'error', error: { code: ErrorCode.InvalidInput, message: `request larger than ${MAX_BODY_BYTES} bytes` } });
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    let body: { name?: unknown; args?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name?: unknown; args?: unknown };
    } catch {
      send(400, { status: 'error', error: { code: ErrorCode.InvalidInput, message: 'request body is not JSON' } });
      return;
    }
    if (typeof body.name !== 'string') {
      send(400, { status: 'error', error: { code: ErrorCode.InvalidInput, message: 'request needs a command name' } });
      return;
    }
    send(200, await this.#deps.dispatcher.dispatch(body.name, body.args ?? {}, { source: 'cli' }));
  }

  status(): Record<string, unknown> {
    return { socket: this.#deps.socketPath, requests: this.#requests };
  }

  healthcheck(): HealthReport {
    return this.#server?.listening ? { level: 'ok' } : { level: 'degraded', reason: 'control socket not listening' };
  }

  commands(): CommandTable {
    return {};
  }
}
