import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DeviceSecret } from '../core/identity.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The setup code printed on the box label: 12 Crockford base32 characters (60 bits) derived from
 * the device secret for the purpose 'setup-code', shown as XXXX-XXXX-XXXX. Deterministic, so the
 * label, `praxisbox setup-code` and the agent always agree; it reveals nothing about the secret.
 */
export function setupCode(secret: DeviceSecret): string {
  const raw = secret.derive('setup-code');
  let bits = 0n;
  for (const b of raw.subarray(0, 8)) bits = (bits << 8n) | BigInt(b);
  let code = '';
  for (let i = 0; i < 12; i++) code += CROCKFORD[Number((bits >> BigInt(64 - 5 * (i + 1))) & 31n)];
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}`;
}

/**
 * What people type, made comparable: case and separators ignored, and the letters Crockford base32
 * leaves out read as the digits they look like (I/L → 1, O → 0). Non-alphabet characters stay, so
 * they cannot match.
 */
export function normalizeSetupCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}

/** Constant-time comparison of a typed code with the box's code (both hashed to equal length first). */
export function setupCodeMatches(input: string, secret: DeviceSecret): boolean {
  const key = secret.derive('setup-code-compare');
  const a = createHmac('sha256', key).update(normalizeSetupCode(input)).digest();
  const b = createHmac('sha256', key).update(normalizeSetupCode(setupCode(secret))).digest();
  return timingSafeEqual(a, b);
}
