import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Session } from './sessions.js';
import { sendError, WebErrorCode, type WebContext } from './web-context.js';

/** What the live tail reads: the agent's in-memory log ring (lines already redacted by the logger). */
export interface LogSource {
  readonly latest: number;
  since(seq: number): { seq: number; line: Record<string, unknown> }[];
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
const MAX_STREAMS = 5;

export interface LogStreams {
  /** Ends every open stream (module stop: fastify's close waits for open requests). */
  closeAll(): void;
  readonly open: number;
}

/**
 * `GET /api/logs/stream?level=`: Server-Sent Events, one `data:` line per new log line (JSON, with
 * `id:` = its sequence number, so a reconnecting EventSource resumes via Last-Event-ID). Polls the
 * ring every `pollMs`; a comment every 15 s keeps proxies from closing it. The stream ends when the
 * session ends (logout, password change, expiry). At most five at once.
 */
export function registerLogStream(app: FastifyInstance, ctx: WebContext, logs: LogSource, cookie: string, pollMs = 500): LogStreams {
  const streams = new Set<() => void>();
  app.get(
    '/api/logs/stream',
    { schema: { querystring: Type.Object({ level: Type.Optional(Type.Union(Object.keys(LEVELS).map((l) => Type.Literal(l)))) }) } },
    async (req, reply) => {
      if (streams.size >= MAX_STREAMS) return sendError(reply, 429, WebErrorCode.RateLimited, 'Zu viele offene Protokoll-Ansichten.');
      const { level } = req.query as { level?: keyof typeof LEVELS };
      const min = level ? LEVELS[level] : 0;
      const sessionId = req.cookies[cookie] ?? '';
      const lastId = Number(req.headers['last-event-id']);
      let seq = Number.isInteger(lastId) && lastId >= 0 && lastId <= logs.latest ? lastId : logs.latest;
      reply.hijack();
      const res: ServerResponse = reply.raw;
      res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: 2000\n: ${(req.pbxSession as Session).user}\n\n`);
      let idle = 0;
      const tick = (): void => {
        if (!ctx.sessions.get(sessionId, ctx.clock.now())) return end();
        const fresh = logs.since(seq);
        for (const { seq: s, line } of fresh) {
          seq = s;
          if ((LEVELS[line['level'] as keyof typeof LEVELS] ?? 0) < min) continue;
          res.write(`id: ${s}\ndata: ${JSON.stringify(line)}\n\n`);
        }
        idle = fresh.length > 0 ? 0 : idle + pollMs;
        if (idle >= 15_000) {
          res.write(': keep-alive\n\n');
          idle = 0;
        }
      };
      const timer = setInterval(tick, pollMs);
      const end = (): void => {
        clearInterval(timer);
        streams.delete(end);
        if (!res.writableEnded) res.end();
      };
      streams.add(end);
      req.raw.on('close', end);
      tick();
      return reply;
    },
  );
  return {
    closeAll: () => {
      for (const end of [...streams]) end();
    },
    get open() {
      return streams.size;
    },
  };
}
