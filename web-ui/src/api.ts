/**
 * The JSON API of the box (agent/web). Every change carries the session's CSRF token; commands go
 * to the same dispatcher as MQTT. Errors become ApiError with the field problems the server
 * reported (error.details) or, failing that, the `/path: message` lines of the error text.
 */
export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly problems: FieldProblem[];
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, status: number, problems: FieldProblem[], retryAfterSeconds?: number) {
    super(message);
    this.code = code;
    this.status = status;
    this.problems = problems;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface Session {
  setupDone: boolean;
  loggedIn: boolean;
  user?: string;
  csrfToken?: string;
  fingerprint?: string;
  boxId?: string;
  version?: string;
}

let csrfToken = '';
let onUnauthorized: () => void = () => undefined;

export function setSession(session: Session): void {
  csrfToken = session.csrfToken ?? '';
}

export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

/** `/printing/printers/0/uri: must …` lines (config and argument errors) as field problems. */
export function problemsFromText(text: string): FieldProblem[] {
  const found: FieldProblem[] = [];
  for (const m of text.matchAll(/(?:^|[\n;:] ?)(\/[A-Za-z0-9_./-]*): ([^;\n]+)/g)) {
    found.push({ path: m[1] ?? '/', message: (m[2] ?? '').trim() });
  }
  return found;
}

function problemsOf(error: Record<string, unknown>, message: string): FieldProblem[] {
  const details = error['details'];
  const list = Array.isArray(details) ? details : Array.isArray((details as { problems?: unknown } | undefined)?.problems) ? (details as { problems: unknown[] }).problems : [];
  const given = list.filter((p): p is FieldProblem => typeof (p as FieldProblem)?.path === 'string' && typeof (p as FieldProblem).message === 'string');
  return given.length > 0 ? given : problemsFromText(message);
}

async function request<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = csrfToken;
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, credentials: 'same-origin', ...(method !== 'GET' ? { body: JSON.stringify(body ?? {}) } : {}) });
  } catch {
    throw new ApiError('Offline', 'network error', 0, []);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON (a proxy's error page): the status code speaks
  }
  const obj = (parsed ?? {}) as Record<string, unknown>;
  const error = (obj['status'] === 'error' || !res.ok ? (obj['error'] ?? obj) : undefined) as Record<string, unknown> | undefined;
  if (error) {
    const message = typeof error['message'] === 'string' ? error['message'] : `HTTP ${res.status}`;
    const code = typeof error['code'] === 'string' ? error['code'] : `HTTP${res.status}`;
    const retryHeader = Number(res.headers.get('retry-after'));
    const retryBody = Number(error['retryAfterSeconds'] ?? obj['retryAfterSeconds']);
    const retry = Number.isFinite(retryBody) && retryBody > 0 ? retryBody : Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined;
    const err = new ApiError(code, message, res.status, problemsOf(error, message), retry);
    if (res.status === 401 && !url.endsWith('/login') && !url.endsWith('/setup') && !url.endsWith('/password')) onUnauthorized();
    throw err;
  }
  return (obj['status'] === 'ok' && 'data' in obj ? obj['data'] : parsed) as T;
}

export const api = {
  session: () => request<Session>('GET', '/api/session'),
  setup: (setupCode: string, password: string) => request<unknown>('POST', '/api/setup', { setupCode, password }),
  login: (password: string) => request<unknown>('POST', '/api/login', { password }),
  logout: () => request<unknown>('POST', '/api/logout', {}),
  changePassword: (current: string, next: string) => request<unknown>('POST', '/api/password', { current, next }),
  audit: () => request<unknown>('GET', '/api/audit'),
  command: <T>(name: string, args: Record<string, unknown> = {}) => request<T>('POST', `/api/commands/${encodeURIComponent(name)}`, { args }),
};
