import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashPassword, passwordProblem, verifyPassword, HashGate, MAX_PASSWORD_LENGTH } from './passwords.js';
import { setupCodeMatches } from './setup-code.js';
import { tokensEqual, type Session } from './sessions.js';
import { ADMIN_USER } from './user-store.js';
import { cookieName, sendError, WebErrorCode, type WebContext } from './web-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    pbxSession?: Session;
  }
}

/** API routes that work without a session. Everything else under /api needs setup done and a login. */
const PUBLIC = new Set(['/api/session', '/api/setup', '/api/login']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

function lockedMessage(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `Zu viele Fehlversuche. Bitte in ${minutes} ${minutes === 1 ? 'Minute' : 'Minuten'} erneut versuchen.`;
}

/**
 * The gate in front of every /api route (origin check, setup, session, CSRF) and the routes that
 * create and end sessions: setup, login, logout, password change.
 */
export function registerAuth(app: FastifyInstance, ctx: WebContext): void {
  const cookie = cookieName(ctx.https);
  const now = (): number => ctx.clock.now();
  const gate = new HashGate();
  /** Whether `password` is `user`'s; undefined when the box is too busy hashing to check now. */
  const checkPassword = (user: string, password: string): Promise<boolean | undefined> => {
    const stored = ctx.users.get(user);
    return gate.run(async () => (stored ? verifyPassword(password, stored.hash) : false));
  };

  app.addHook('preHandler', async (req, reply) => {
    const url = req.url.split('?')[0] ?? '';
    if (!url.startsWith('/api/') && url !== '/api') return;
    if (!SAFE_METHODS.has(req.method) && !sameOrigin(req)) return sendError(reply, 403, WebErrorCode.Forbidden, 'Anfrage von fremder Herkunft abgelehnt.');
    const session = ctx.sessions.get(req.cookies[cookie], now());
    if (session) req.pbxSession = session;
    if (PUBLIC.has(url)) return;
    if (!ctx.users.setupDone) return sendError(reply, 403, WebErrorCode.SetupRequired, 'Die Box ist noch nicht eingerichtet: zuerst den Einrichtungscode eingeben.');
    if (!session) return sendError(reply, 401, WebErrorCode.Unauthorized, 'Bitte anmelden.');
    if (!SAFE_METHODS.has(req.method)) {
      const token = req.headers['x-csrf-token'];
      if (typeof token !== 'string' || !tokensEqual(token, session.csrfToken)) {
        return sendError(reply, 403, WebErrorCode.CsrfRejected, 'Sicherheitstoken fehlt oder ist ungültig. Bitte die Seite neu laden.');
      }
    }
    return undefined;
  });

  const startSession = (reply: FastifyReply, user: string): Session => {
    const session = ctx.sessions.create(user, now());
    void reply.setCookie(cookie, session.id, { httpOnly: true, secure: ctx.https, sameSite: 'strict', path: '/' });
    return session;
  };

  const audit = (req: FastifyRequest, event: string, extra: Record<string, unknown> = {}): Promise<void> =>
    ctx.audit.append({ event, ip: req.ip, source: 'web', ...extra }, now()).catch((err: unknown) => ctx.log.error({ err, event }, 'audit log could not be written'));

  app.get('/api/session', async (req) => {
    const s = req.pbxSession;
    return {
      setupDone: ctx.users.setupDone,
      loggedIn: s !== undefined,
      ...(s ? { user: s.user, csrfToken: s.csrfToken } : {}),
      ...(ctx.fingerprint() ? { fingerprint: ctx.fingerprint() } : {}),
      boxId: ctx.boxId() ?? null,
      version: ctx.version,
      https: ctx.https,
      language: 'de',
    };
  });

  let setupRunning: Promise<unknown> = Promise.resolve();
  app.post(
    '/api/setup',
    { schema: { body: Type.Object({ setupCode: Type.String({ minLength: 1, maxLength: 40 }), password: Password }, { additionalProperties: false }) } },
    async (req, reply) => {
      const { setupCode, password } = req.body as { setupCode: string; password: string };
      if (ctx.users.setupDone) return sendError(reply, 409, WebErrorCode.AlreadySetUp, 'Die Box ist bereits eingerichtet. Bitte anmelden.');
      const verdict = ctx.guard.check(req.ip, 'setup', now());
      if (!verdict.allowed) return tooMany(reply, verdict.retryAfterSeconds);
      if (!setupCodeMatches(setupCode, ctx.secret())) {
        const after = ctx.guard.fail(req.ip, 'setup', now());
        await audit(req, 'setup.failed');
        if (!after.allowed) return tooMany(reply, after.retryAfterSeconds);
        return sendError(reply, 403, WebErrorCode.Unauthorized, 'Der Einrichtungscode stimmt nicht.', [{ path: '/setupCode', message: 'Der Einrichtungscode stimmt nicht.' }]);
      }
      const weak = passwordProblem(password, ctx.boxId() ?? '');
      if (weak) return sendError(reply, 400, 'InvalidInput', weak, [{ path: '/password', message: weak }]);
      // Two browsers finishing setup at once: the second finds it done.
      const run = async (): Promise<boolean> => {
        if (ctx.users.setupDone) return false;
        await ctx.users.setHash(ADMIN_USER, await hashPassword(password), now());
        return true;
      };
      const done = setupRunning.then(run, run);
      setupRunning = done.catch(() => undefined);
      if (!(await done)) return sendError(reply, 409, WebErrorCode.AlreadySetUp, 'Die Box ist bereits eingerichtet. Bitte anmelden.');
      ctx.guard.succeed(req.ip, 'setup');
      const session = startSession(reply, ADMIN_USER);
      await audit(req, 'setup.done', { user: ADMIN_USER });
      return { status: 'ok', data: { user: ADMIN_USER, csrfToken: session.csrfToken } };
    },
  );

  app.post(
    '/api/login',
    { schema: { body: Type.Object({ user: Type.Optional(Type.String({ maxLength: 64 })), password: Password }, { additionalProperties: false }) } },
    async (req, reply) => {
      const { password } = req.body as { password: string };
      const user = ADMIN_USER;
      if (!ctx.users.setupDone) return sendError(reply, 403, WebErrorCode.SetupRequired, 'Die Box ist noch nicht eingerichtet: zuerst den Einrichtungscode eingeben.');
      const verdict = ctx.guard.check(req.ip, user, now());
      if (!verdict.allowed) {
        await audit(req, 'login.blocked', { user });
        return tooMany(reply, verdict.retryAfterSeconds);
      }
      const matches = await checkPassword(user, password);
      if (matches === undefined) return busy(reply);
      if (!matches) {
        const after = ctx.guard.fail(req.ip, user, now());
        await audit(req, 'login.failed', { user });
        if (!after.allowed) return tooMany(reply, after.retryAfterSeconds);
        return sendError(reply, 401, WebErrorCode.Unauthorized, 'Das Passwort ist falsch.', [{ path: '/password', message: 'Das Passwort ist falsch.' }]);
      }
      ctx.guard.succeed(req.ip, user);
      if (req.pbxSession) ctx.sessions.delete(req.pbxSession.id);
      const session = startSession(reply, user);
      await audit(req, 'login', { user });
      return { status: 'ok', data: { user, csrfToken: session.csrfToken } };
    },
  );

  app.post('/api/logout', async (req, reply) => {
    const s = req.pbxSession as Session;
    ctx.sessions.delete(s.id);
    void reply.clearCookie(cookie, { path: '/', httpOnly: true, secure: ctx.https, sameSite: 'strict' });
    await audit(req, 'logout', { user: s.user });
    return { status: 'ok', data: {} };
  });

  app.post(
    '/api/password',
    { schema: { body: Type.Object({ current: Password, next: Password }, { additionalProperties: false }) } },
    async (req, reply) => {
      const s = req.pbxSession as Session;
      const { current, next } = req.body as { current: string; next: string };
      const verdict = ctx.guard.check(req.ip, s.user, now());
      if (!verdict.allowed) return tooMany(reply, verdict.retryAfterSeconds);
      const matches = await checkPassword(s.user, current);
      if (matches === undefined) return busy(reply);
      if (!matches) {
        const after = ctx.guard.fail(req.ip, s.user, now());
        await audit(req, 'password.change-failed', { user: s.user });
        if (!after.allowed) return tooMany(reply, after.retryAfterSeconds);
        return sendError(reply, 400, 'InvalidInput', 'Das aktuelle Passwort ist falsch.', [{ path: '/current', message: 'Das aktuelle Passwort ist falsch.' }]);
      }
      const weak = passwordProblem(next, ctx.boxId() ?? '') ?? (next === current ? 'Das neue Passwort muss sich vom bisherigen unterscheiden.' : undefined);
      if (weak) return sendError(reply, 400, 'InvalidInput', weak, [{ path: '/next', message: weak }]);
      await ctx.users.setHash(s.user, await hashPassword(next), now());
      // Every session ends, this one included; this browser continues with a fresh one.
      const ended = ctx.sessions.clear();
      const session = startSession(reply, s.user);
      await audit(req, 'password.changed', { user: s.user });
      ctx.log.info({ sessionsEnded: ended }, 'web password changed: all sessions ended');
      return { status: 'ok', data: { user: s.user, csrfToken: session.csrfToken } };
    },
  );
}

function busy(reply: FastifyReply): FastifyReply {
  void reply.header('retry-after', '5');
  return sendError(reply, 503, WebErrorCode.RateLimited, 'Die Box ist gerade ausgelastet. Bitte in einigen Sekunden erneut versuchen.');
}

function tooMany(reply: FastifyReply, seconds: number): FastifyReply {
  void reply.header('retry-after', String(seconds));
  return sendError(reply, 429, WebErrorCode.RateLimited, lockedMessage(seconds));
}

/**
 * A changing request must come from a page of this box: when the browser sends Origin, its host
 * must be the Host the request was sent to (SameSite=Strict and the CSRF token are the main guard;
 * this also covers login and setup, which have no token yet).
 */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
