import type { FastifyReply } from 'fastify';
import type { CommandDispatcher } from '../core/commands.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeviceSecret } from '../core/identity.js';
import type { SessionStore } from './sessions.js';
import type { LoginGuard } from './login-guard.js';
import type { UserStore } from './user-store.js';
import type { AuditLog } from './audit-log.js';
import type { LogSource } from './log-stream.js';

/** Everything the routes need; built by the WebModule, one object (and fakes in unit tests). */
export interface WebContext {
  dispatcher: CommandDispatcher;
  clock: Clock;
  log: Logger;
  version: string;
  https: boolean;
  boxId: () => string | undefined;
  secret: () => DeviceSecret;
  fingerprint: () => string | undefined;
  users: UserStore;
  sessions: SessionStore;
  guard: LoginGuard;
  audit: AuditLog;
  /** The agent's log ring, for the live tail. */
  logs: LogSource;
  /** The built pages (web-ui/dist); undefined when they are not built. */
  uiDir: string | undefined;
}

/** Error codes the API adds to the dispatcher's (agent/core/errors.ts): auth and protocol outcomes. */
export const WebErrorCode = {
  SetupRequired: 'SetupRequired',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  CsrfRejected: 'CsrfRejected',
  RateLimited: 'RateLimited',
  AlreadySetUp: 'AlreadySetUp',
} as const;

export function sendError(reply: FastifyReply, http: number, code: string, message: string, details?: { path: string; message: string }[]): FastifyReply {
  return reply.code(http).send({ status: 'error', error: { code, message, ...(details ? { details } : {}) } });
}

/** HTTP status for a dispatcher error code; the body is the dispatcher's reply unchanged. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case 'InvalidInput':
    case 'InvalidConfig':
      return 400;
    case 'NotFound':
    case 'UnknownCommand':
      return 404;
    case 'CommandRejected':
      return 409;
    case 'Expired':
      return 410;
    case 'DeviceUnavailable':
    case 'OutboxFull':
      return 503;
    case 'Timeout':
      return 504;
    default:
      return 500;
  }
}

export const SESSION_COOKIE_HTTP = 'pbx_session';
/** With HTTPS the `__Host-` prefix makes browsers insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE_HTTPS = '__Host-pbx_session';

export const cookieName = (https: boolean): string => (https ? SESSION_COOKIE_HTTPS : SESSION_COOKIE_HTTP);
