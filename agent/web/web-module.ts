import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { CommandDispatcher } from '../core/commands.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import type { BoxIdentity, DeviceSecret } from '../core/identity.js';
import type { LogSource, LogStreams } from './log-stream.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { listenPlan, type ListenPlan, type WebConfig } from './web-config.js';
import { SessionStore } from './sessions.js';
import { LoginGuard } from './login-guard.js';
import { UserStore } from './user-store.js';
import { AuditLog } from './audit-log.js';
import { loadOrCreateCertificate } from './tls-cert.js';
import { createRedirectServer } from './redirect-server.js';
import { resetWebPassword } from './password-reset.js';

export interface WebModuleDeps {
  config: () => WebConfig;
  /** PRAXISBOX_BOX, PRAXISBOX_WEB_PORT, PRAXISBOX_WEB_REDIRECT_PORT, PRAXISBOX_WEB_UI_DIR. */
  env: Readonly<Record<string, string | undefined>>;
  /** `<dataDir>/web`: users, audit log, TLS certificate. */
  dir: string;
  identity: () => BoxIdentity;
  secret: () => DeviceSecret;
  dispatcher: CommandDispatcher;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  log: Logger;
  /** The agent's log ring (live log tail). */
  logRing: LogSource;
  version: string;
}

/** `web-ui/dist` of this installation (two levels above agent/web, three above dist/agent/web). */
export function defaultUiDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    const root = path.resolve(here, ...up);
    if (fs.existsSync(path.join(root, 'package.json')) && fs.existsSync(path.join(root, 'agent'))) return path.join(root, 'web-ui', 'dist');
  }
  return path.resolve(here, '..', '..', 'web-ui', 'dist');
}

/**
 * The local web UI: pages and JSON API over HTTP (development) or HTTPS with a self-signed
 * certificate and a redirecting HTTP listener (box mode). Sessions and the login guard live as
 * long as the module object, so a restart after a `web` config change keeps people logged in;
 * an agent restart logs everyone out.
 */
export class WebModule implements AgentModule {
  readonly name = 'web';
  readonly configSections = ['web'] as const;
  readonly #deps: WebModuleDeps;
  readonly #users: UserStore;
  readonly #audit: AuditLog;
  #sessions: SessionStore | undefined;
  #guard: LoginGuard | undefined;
  #app: FastifyInstance | undefined;
  #streams: LogStreams | undefined;
  #redirect: http.Server | undefined;
  #plan: ListenPlan | undefined;
  #url: string | undefined;
  #redirectUrl: string | undefined;
  #fingerprint: string | undefined;
  #uiBuilt = false;

  constructor(deps: WebModuleDeps) {
    this.#deps = deps;
    this.#users = new UserStore(deps.dir);
    this.#audit = new AuditLog(deps.dir, () => deps.config().auditMaxBytes);
  }

  async start(): Promise<void> {
    const deps = this.#deps;
    const config = deps.config();
    if (!config.enabled) return;
    const plan = listenPlan(config, deps.env);
    this.#plan = plan;
    this.#sessions ??= new SessionStore(() => ({ idleMs: deps.config().sessionMinutes * 60_000, absoluteMs: 12 * 3600_000, maxSessions: 200 }));
    this.#guard ??= new LoginGuard(() => ({
      maxFailures: deps.config().loginMaxFailures,
      maxUserFailures: deps.config().loginMaxFailures * 4,
      lockoutMs: deps.config().lockoutMinutes * 60_000,
      maxExtraMs: 3600_000,
      maxKeys: 10_000,
    }));
    await this.#users.load();
    const boxId = deps.identity().boxId;
    const tls = plan.https ? await loadOrCreateCertificate(deps.dir, boxId, deps.clock.now(), deps.log) : undefined;
    this.#fingerprint = tls?.fingerprint;
    const uiDir = deps.env['PRAXISBOX_WEB_UI_DIR'] || defaultUiDir();
    this.#uiBuilt = fs.existsSync(path.join(uiDir, 'index.html'));
    // fastify is loaded when the web UI starts, not by every `praxisbox` CLI command that imports the agent.
    const { buildWebApp } = await import('./web-app.js');
    const { app, streams } = await buildWebApp(
      {
        dispatcher: deps.dispatcher,
        clock: deps.clock,
        log: deps.log,
        version: deps.version,
        https: plan.https,
        boxId: () => boxId,
        secret: deps.secret,
        fingerprint: () => this.#fingerprint,
        users: this.#users,
        sessions: this.#sessions,
        guard: this.#guard,
        audit: this.#audit,
        logs: deps.logRing,
        uiDir,
      },
      tls,
    );
    await app.listen({ host: plan.bind, port: plan.port });
    this.#app = app;
    this.#streams = streams;
    const addr = app.server.address() as AddressInfo;
    this.#url = `${plan.https ? 'https' : 'http'}://${urlHost(plan.bind)}:${addr.port}/`;
    if (plan.redirectPort !== undefined) {
      const server = createRedirectServer(() => addr.port);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: plan.bind, port: plan.redirectPort }, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch(async (err: unknown) => {
        await app.close();
        this.#app = undefined;
        throw err;
      });
      this.#redirect = server;
      this.#redirectUrl = `http://${urlHost(plan.bind)}:${(server.address() as AddressInfo).port}/`;
    }
    deps.bus.on('web', 'config.changed', ({ sections, version }) => {
      void this.#audit.append({ event: 'config.changed', sections, version }, deps.clock.now()).catch(() => undefined);
    });
    deps.log.info({ url: this.#url, redirect: this.#redirectUrl, fingerprint: this.#fingerprint, setupDone: this.#users.setupDone, ui: this.#uiBuilt }, `web UI on ${this.#url}`);
  }

  async stop(): Promise<void> {
    this.#deps.bus.offOwner('web');
    const app = this.#app;
    const redirect = this.#redirect;
    this.#app = undefined;
    this.#redirect = undefined;
    this.#url = undefined;
    this.#redirectUrl = undefined;
    if (redirect) {
      redirect.closeAllConnections();
      await new Promise<void>((resolve) => redirect.close(() => resolve()));
    }
    this.#streams?.closeAll();
    this.#streams = undefined;
    if (app) {
      app.server.closeIdleConnections();
      await app.close();
    }
  }

  /** The URL the UI answers on (with the actual port), or undefined while not listening. */
  url(): string | undefined {
    return this.#url;
  }

  status(): Record<string, unknown> {
    return {
      ...(this.#url ? { url: this.#url } : {}),
      ...(this.#redirectUrl ? { redirectUrl: this.#redirectUrl } : {}),
      https: this.#plan?.https ?? false,
      ...(this.#fingerprint ? { fingerprint: this.#fingerprint } : {}),
      setupDone: this.#users.setupDone,
      sessions: this.#sessions?.size ?? 0,
      uiBuilt: this.#uiBuilt,
    };
  }

  healthcheck(): HealthReport {
    if (!this.#deps.config().enabled) return { level: 'ok' };
    if (!this.#app) return { level: 'degraded', reason: 'web UI not listening' };
    return { level: 'ok' };
  }

  commands(): CommandTable {
    return {
      'web.reset-password': {
        description: 'Local password reset (CLI only): removes the web admin password and ends all sessions; the setup code works again',
        handler: async (_args, ctx) => {
          if (ctx.source !== 'cli') throw new PraxisboxError(ErrorCode.CommandRejected, 'the web password can only be reset at the box (praxisbox web reset-password)');
          await resetWebPassword(this.#deps.dir, this.#deps.clock.now());
          await this.#users.load();
          const ended = this.#sessions?.clear() ?? 0;
          this.#deps.log.warn({ sessionsEnded: ended }, 'web password reset from the local CLI: setup code accepted again');
          return { reset: true, sessionsEnded: ended };
        },
      },
    };
  }
}

function urlHost(bind: string): string {
  if (bind === '::' || bind === '0.0.0.0' || bind === '') return 'localhost';
  return bind.includes(':') ? `[${bind}]` : bind;
}
