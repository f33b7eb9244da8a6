import http from 'node:http';

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:(\d{1,5}))?$/;

/**
 * Where a plain-HTTP request should go: https on the same host. A Host header with this
 * port (this listener's, reached directly) gets the HTTPS port; one without a port (reached on port 80, forwarded by the
 * image's nftables rule) gets plain https:// (port 443, forwarded to the HTTPS port). Pure.
 */
export function redirectTarget(hostHeader: string | undefined, url: string, httpsPort: number): string | undefined {
  if (hostHeader === undefined) return undefined;
  const m = HOST.exec(hostHeader.trim());
  if (!m) return undefined;
  const host = m[1] as string;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  const targetPort = port === undefined || port === 80 ? 443 : httpsPort;
  const pathPart = url.startsWith('/') && !url.startsWith('//') ? url : '/';
  return `https://${host}${targetPort === 443 ? '' : `:${targetPort}`}${pathPart}`;
}

/** The plain-HTTP listener of box mode: every request is answered with a redirect to HTTPS, nothing else. */
export function createRedirectServer(httpsPort: () => number): http.Server {
  const server = http.createServer((req, res) => {
    const target = redirectTarget(req.headers.host, req.url ?? '/', httpsPort());
    const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store', connection: 'close' };
    if (!target) {
      res.writeHead(400, { ...common, 'content-type': 'text/plain; charset=utf-8' });
      res.end('Bitte die Adresse der Box mit https:// aufrufen.\n');
      return;
    }
    res.writeHead(308, { ...common, location: target, 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Weiter zu ${target}\n`);
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  return server;
}
