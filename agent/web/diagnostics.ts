import os from 'node:os';

/** Keys whose values never leave the box in a bundle, whatever section they are in. */
const SECRET_KEY = /secret|passw|token|credential|private|apikey|api_key|hash|^key$|key(file|path|pem)?$|cert(ificate)?(file|path|pem)?$|^ca$|salt|cookie|sessionid|sessiontoken|setupcode/i;

/** A deep copy of `value` with every secret-looking field replaced by "[redacted]". */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== '' && typeof v !== 'boolean' ? '[redacted]' : redactSecrets(v, depth + 1);
  }
  return out;
}

export interface DiagnosticsInput {
  boxId: string | undefined;
  version: string;
  now: number;
  config: unknown;
  status: unknown;
  logs: unknown[];
  outbox: unknown;
  commands: unknown;
}

/**
 * The diagnostics bundle: one JSON document an IT provider can open in any editor (and send to
 * support). Configuration and status go through `redactSecrets`; log lines were redacted for
 * patient data by the logger and pass through `redactSecrets` too. Audit entries, users, the
 * device secret, TLS key and cloud credentials are not read at all.
 */
export function buildDiagnostics(input: DiagnosticsInput): Record<string, unknown> {
  return {
    kind: 'praxisbox-diagnostics',
    formatVersion: 1,
    generatedAt: new Date(input.now).toISOString(),
    boxId: input.boxId ?? null,
    versions: {
      agent: input.version,
      node: process.version,
      os: { platform: os.platform(), release: os.release(), arch: os.arch(), type: os.type() },
    },
    host: { uptimeSeconds: Math.round(os.uptime()), loadavg: os.loadavg(), totalMemBytes: os.totalmem(), freeMemBytes: os.freemem(), cpus: os.cpus().length },
    status: redactSecrets(input.status),
    outbox: redactSecrets(input.outbox),
    config: redactSecrets(input.config),
    commands: input.commands,
    logs: redactSecrets(input.logs),
  };
}

export function diagnosticsFileName(boxId: string | undefined, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  return `praxisbox-diagnose-${(boxId ?? 'box').replace(/[^a-z0-9-]/gi, '')}-${stamp}.json`;
}
