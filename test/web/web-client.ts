import http from 'node:http';
import https from 'node:https';

export interface WebResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => { status: string; data?: Record<string, unknown> & { csrfToken?: string }; error?: { code: string; message: string; details?: { path: string; message: string }[] } } & Record<string, unknown>;
}

/** One raw request over a real socket (HTTP, or HTTPS trusting exactly `ca`). */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown; ca?: string; localAddress?: string } = {}): Promise<WebResponse> {
  const u = new URL(url);
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: opts.method ?? 'GET', headers, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.localAddress ? { localAddress: opts.localAddress } : {}), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as ReturnType<WebResponse['json']> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A browser-like client: keeps the session cookie and the CSRF token and sends both. */
export class WebClient {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(
    readonly base: string,
    readonly ca?: string,
    /** Another loopback address (127.0.0.2, …) looks like another client to the login guard. */
    readonly localAddress?: string,
  ) {}

  async call(method: string, path: string, body?: unknown, extra: { headers?: Record<string, string>; csrf?: string | null } = {}): Promise<WebResponse> {
    const headers: Record<string, string> = { ...extra.headers };
    if (this.cookie) headers['cookie'] = this.cookie;
    const csrf = extra.csrf === undefined ? this.csrf : extra.csrf;
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    const res = await request(new URL(path, this.base).toString(), { method, headers, body, ...(this.ca ? { ca: this.ca } : {}), ...(this.localAddress ? { localAddress: this.localAddress } : {}) });
    const set = res.headers['set-cookie'];
    for (const c of set ?? []) {
      const pair = c.split(';')[0] ?? '';
      this.cookie = /=$/.test(pair) || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c) ? undefined : pair;
    }
    if (res.headers['content-type']?.includes('application/json')) {
      const token = (res.json().data as { csrfToken?: string } | undefined)?.csrfToken;
      if (typeof token === 'string') this.csrf = token;
    }
    return res;
  }

  get(path: string): Promise<WebResponse> {
    return this.call('GET', path);
  }

  post(path: string, body: unknown = {}, extra: { headers?: Record<string, string>; csrf?: string | null } = {}): Promise<WebResponse> {
    return this.call('POST', path, body, extra);
  }

  /** GET /api/session and keep its CSRF token. */
  async session(): Promise<Record<string, unknown>> {
    const res = await this.get('/api/session');
    const s = JSON.parse(res.text) as Record<string, unknown>;
    if (typeof s['csrfToken'] === 'string') this.csrf = s['csrfToken'];
    return s;
  }
}
