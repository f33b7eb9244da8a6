import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommandReply } from '../core/commands.js';
import type { Session } from './sessions.js';
import { buildDiagnostics, diagnosticsFileName } from './diagnostics.js';
import { httpStatusFor, sendError, WebErrorCode, type WebContext } from './web-context.js';

/**
 * Commands the web UI may not call although the dispatcher serves them: the local password reset
 * (it belongs to someone at the box's console, `praxisbox web reset-password`). Everything else is
 * open to the logged-in administrator — the same actions the cloud and the CLI have.
 */
export function webMayCall(name: string): boolean {
  return !name.startsWith('web.');
}

/** Commands that only read: not written to the audit log (the UI polls some of them). */
export function isReadOnlyCommand(name: string): boolean {
  return /(^|\.)(get|list|status|stats|tail|validate|check|caps|discover|jobs)$/.test(name) || name === 'ping' || name === 'commands.list';
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** The JSON API behind the pages: commands (the one dispatcher), status, logs, audit, diagnostics. */
export function registerApi(app: FastifyInstance, ctx: WebContext): void {
  const now = (): number => ctx.clock.now();
  const run = (req: FastifyRequest, name: string, args: unknown): Promise<CommandReply> =>
    ctx.dispatcher.dispatch(name, args, { source: 'web', user: (req.pbxSession as Session).user });

  app.post(
    '/api/commands/:name',
    {
      schema: {
        params: Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)*$', maxLength: 64 }) }),
        body: Type.Optional(Type.Object({ args: Type.Optional(Type.Unknown()) }, { additionalProperties: false })),
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const args = (req.body as { args?: unknown } | undefined)?.args ?? {};
      const user = (req.pbxSession as Session).user;
      if (!webMayCall(name)) {
        await ctx.audit.append({ event: 'command.denied', user, ip: req.ip, source: 'web', command: name }, now());
        return sendError(reply, 403, WebErrorCode.Forbidden, 'Dieser Befehl ist über die Weboberfläche nicht erlaubt.');
      }
      const result = await run(req, name, args);
      if (!isReadOnlyCommand(name)) {
        const paths = configPaths(args);
        const changed = result.status === 'ok' ? sectionsOf(result.data) : undefined;
        await ctx.audit
          .append(
            {
              event: 'command',
              user,
              ip: req.ip,
              source: 'web',
              command: name,
              ok: result.status === 'ok',
              ...(result.status === 'error' ? { code: result.error.code } : {}),
              ...(paths.length > 0 ? { paths } : {}),
              ...(changed ? { sections: changed } : {}),
            },
            now(),
          )
          .catch((err: unknown) => ctx.log.error({ err }, 'audit log could not be written'));
      }
      return reply.code(result.status === 'ok' ? 200 : httpStatusFor(result.error.code)).send(result);
    },
  );

  app.get('/api/status', async (req, reply) => {
    const result = await run(req, 'status', {});
    return reply.code(result.status === 'ok' ? 200 : httpStatusFor(result.error.code)).send(result);
  });

  app.get(
    '/api/logs',
    {
      schema: {
        querystring: Type.Object({
          level: Type.Optional(Type.Union(LEVELS.map((l) => Type.Literal(l)))),
          limit: Type.Integer({ minimum: 1, maximum: 2000, default: 200 }),
        }),
      },
    },
    async (req, reply) => {
      const { level, limit } = req.query as { level?: string; limit: number };
      const result = await run(req, 'logs.tail', { lines: limit, ...(level ? { level } : {}) });
      return reply.code(result.status === 'ok' ? 200 : httpStatusFor(result.error.code)).send(result);
    },
  );

  app.get('/api/audit', { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }) }) } }, async (req) => {
    const { limit } = req.query as { limit: number };
    return { status: 'ok', data: { entries: await ctx.audit.tail(limit) } };
  });

  app.get('/api/diagnostics', async (req, reply) => {
    const data = async (name: string, args: unknown = {}): Promise<unknown> => {
      const r = await run(req, name, args);
      return r.status === 'ok' ? r.data : { error: r.error.code };
    };
    const logs = (await data('logs.tail', { lines: 1000 })) as { lines?: unknown[] };
    const bundle = buildDiagnostics({
      boxId: ctx.boxId(),
      version: ctx.version,
      now: now(),
      config: await data('config.get'),
      status: await data('status'),
      outbox: await data('outbox.stats'),
      commands: await data('commands.list'),
      logs: Array.isArray(logs.lines) ? logs.lines : [],
    });
    await ctx.audit.append({ event: 'diagnostics.download', user: (req.pbxSession as Session).user, ip: req.ip, source: 'web' }, now());
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${diagnosticsFileName(ctx.boxId(), now())}"`)
      .send(`${JSON.stringify(bundle, null, 2)}\n`);
  });
}

/** Configuration paths named in a command's arguments (`config.set` has `path`); never values. */
function configPaths(args: unknown): string[] {
  if (args === null || typeof args !== 'object') return [];
  const p = (args as Record<string, unknown>)['path'];
  return typeof p === 'string' && /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(p) && p.length <= 200 ? [p] : [];
}

/** `{changed: [sections]}` as config commands answer. */
function sectionsOf(data: unknown): string[] | undefined {
  const changed = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)['changed'] : undefined;
  return Array.isArray(changed) && changed.every((s) => typeof s === 'string') ? (changed as string[]) : undefined;
}
