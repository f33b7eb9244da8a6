import { Type, type Static } from '@sinclair/typebox';

/**
 * Configuration section `web`: the local web UI. On a box (PRAXISBOX_BOX=1) `https: "auto"` means
 * HTTPS on `httpsPort` plus a plain-HTTP listener on `httpPort` that only redirects; in development
 * it means plain HTTP on 127.0.0.1:`httpPort`.
 */
export const WebSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve the local web UI' }),
    https: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
      default: 'auto',
      description: '"auto": HTTPS in box mode (PRAXISBOX_BOX=1), plain HTTP otherwise',
    }),
    bind: Type.String({
      default: '',
      maxLength: 100,
      pattern: '^[0-9A-Fa-f:.]*$',
      description: 'Address to listen on; empty = "::" (all) with HTTPS, "127.0.0.1" with plain HTTP',
    }),
    httpPort: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'Plain HTTP: the UI (dev) or the redirect to HTTPS (box)' }),
    httpsPort: Type.Integer({ default: 8443, minimum: 0, maximum: 65535, description: 'HTTPS port of the UI' }),
    redirectHttp: Type.Boolean({ default: true, description: 'With HTTPS: answer plain HTTP on httpPort with a redirect' }),
    sessionMinutes: Type.Integer({ default: 60, minimum: 5, maximum: 24 * 60, description: 'A session ends after this long without a request' }),
    loginMaxFailures: Type.Integer({ default: 5, minimum: 1, maximum: 100, description: 'Failed logins from one address before it is locked out' }),
    lockoutMinutes: Type.Integer({ default: 5, minimum: 1, maximum: 24 * 60, description: 'First lockout; each further lockout doubles it (at most 1 h more than this)' }),
    auditMaxBytes: Type.Integer({ default: 1024 * 1024, minimum: 16 * 1024, maximum: 64 * 1024 * 1024, description: 'Audit log size before it is rotated (one old file kept)' }),
  },
  { default: {}, additionalProperties: false },
);

export type WebConfig = Static<typeof WebSection>;

export interface ListenPlan {
  https: boolean;
  bind: string;
  /** Port of the UI (HTTPS or HTTP). */
  port: number;
  /** Port of the redirect-only HTTP listener, when there is one. */
  redirectPort?: number;
}

/**
 * Where to listen, from the section and the environment: PRAXISBOX_BOX=1 (box mode),
 * PRAXISBOX_WEB_PORT (the UI port; 0 = any free port), PRAXISBOX_WEB_REDIRECT_PORT. Pure.
 */
export function listenPlan(config: WebConfig, env: Readonly<Record<string, string | undefined>>): ListenPlan {
  const box = env['PRAXISBOX_BOX'] === '1';
  const https = config.https === 'on' || (config.https === 'auto' && box);
  const bind = config.bind !== '' ? config.bind : https ? '::' : '127.0.0.1';
  const portEnv = parsePort(env['PRAXISBOX_WEB_PORT']);
  const redirectEnv = parsePort(env['PRAXISBOX_WEB_REDIRECT_PORT']);
  if (!https) return { https, bind, port: portEnv ?? config.httpPort };
  return {
    https,
    bind,
    port: portEnv ?? config.httpsPort,
    ...(config.redirectHttp ? { redirectPort: redirectEnv ?? config.httpPort } : {}),
  };
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}
