import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { securityHeaders } from './security-headers.js';
import { registerAuth } from './web-auth.js';
import { registerApi } from './web-api.js';
import { cookieName, sendError, type WebContext } from './web-context.js';
import { registerLogStream, type LogStreams } from './log-stream.js';

const BODY_LIMIT = 2 * 1024 * 1024;

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Praxisbox</title></head>
<body><h1>Praxisbox</h1>
<p>Die Weboberfläche ist in dieser Installation nicht gebaut (web-ui/dist fehlt).</p>
<p>Der Agent läuft; Status und Einstellungen sind über <code>praxisbox status</code> und <code>praxisbox config</code> erreichbar.</p>
</body></html>
`;

/**
 * The web UI's HTTP application (fastify): security headers on every response, the /api routes
 * and the built pages with a fallback to index.html for the pages' own paths. Listening is the
 * WebModule's job; tests can also use `app.inject`.
 */
export async function buildWebApp(ctx: WebContext, tls?: { key: string; cert: string }): Promise<{ app: FastifyInstance; streams: LogStreams }> {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    ...(tls ? { https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' as const } } : {}),
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    return503OnClosing: true,
    requestTimeout: 60_000,
  }) as unknown as FastifyInstance;
  const headers = securityHeaders(ctx.https);

  app.addHook('onRequest', async (req, reply) => {
    void reply.headers(headers);
    if (req.url.startsWith('/api/') || req.url === '/api') void reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation) {
      const details = err.validation.map((v) => ({
        path: v.instancePath || (typeof v.params?.['missingProperty'] === 'string' ? `/${v.params['missingProperty']}` : '/'),
        message: v.message ?? 'invalid',
      }));
      return sendError(reply, 400, 'InvalidInput', `Ungültige Anfrage: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) ctx.log.error({ err }, 'web request failed');
    return sendError(reply, status, status === 500 ? 'Internal' : 'InvalidInput', status === 500 ? 'Interner Fehler (Details im Protokoll der Box).' : 'Ungültige Anfrage.');
  });

  await app.register(fastifyCookie);
  registerAuth(app, ctx);
  registerApi(app, ctx);
  const streams = registerLogStream(app, ctx, ctx.logs, cookieName(ctx.https));

  const uiDir = ctx.uiDir !== undefined && fs.existsSync(path.join(ctx.uiDir, 'index.html')) ? ctx.uiDir : undefined;
  if (uiDir) {
    await app.register(fastifyStatic, {
      root: uiDir,
      index: ['index.html'],
      wildcard: true,
      // Revalidate everything (ETag/Last-Modified): after an update the pages must never be stale.
      cacheControl: false,
      setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
    });
  }

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/') || req.url === '/api') return sendError(reply, 404, 'NotFound', 'Diese Schnittstelle gibt es nicht.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(reply, 404, 'NotFound', 'Nicht gefunden.');
    if (!uiDir) return reply.code(503).header('content-type', 'text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    // The pages route themselves (/status, /einstellungen/…): any other GET gets the app shell.
    if (path.extname(req.url.split('?')[0] ?? '') !== '') return reply.code(404).type('text/plain; charset=utf-8').send('Nicht gefunden.');
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
  return { app, streams };
}
