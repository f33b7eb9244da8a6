import fs from 'node:fs';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Keyring, TrustedKey } from './release-manifest.js';

/**
 * The release keys this build of the agent trusts. A release may only be installed when its
 * manifest is signed by one of these keys, so the keyring of the RUNNING release is the trust root.
 * Key rotation (docs/updates.md): a release signed with an old key ships a keyring that also lists
 * the new key; later releases are signed with the new key; once every box runs a release that knows
 * the new key, a release drops the old one.
 *
 * `praxisbox-2026-1` is a placeholder: its private half was not kept, so nothing can be signed for
 * it. The vendor replaces it with the public half of `praxisbox release keygen` before the first
 * release that boxes should accept.
 */
export const PRODUCTION_KEYRING: Keyring = {
  keys: [{ id: 'praxisbox-2026-1', publicKey: 'S3z6JYZ_XwXMi-Z5MJEZnMqSlzhakfKpGhV0JOCuOl4', note: 'placeholder, replace before the first release' }],
};

/** Environment variable naming a keyring JSON file that replaces the embedded one — honoured only outside box mode (tests, development). */
export const KEYRING_OVERRIDE_VARIABLE = 'PRAXISBOX_UPDATE_KEYRING';

/** The keyring to verify releases with: the embedded one, or in development and tests the override file. */
export function activeKeyring(env: Readonly<Record<string, string | undefined>>): Keyring {
  const file = env[KEYRING_OVERRIDE_VARIABLE];
  if (file === undefined || file === '' || env['PRAXISBOX_BOX'] === '1') return PRODUCTION_KEYRING;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new PraxisboxError(ErrorCode.InvalidConfig, `${KEYRING_OVERRIDE_VARIABLE} does not name a readable keyring JSON file`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || !keys.every((k: TrustedKey) => typeof k?.id === 'string' && typeof k?.publicKey === 'string')) {
    throw new PraxisboxError(ErrorCode.InvalidConfig, `${KEYRING_OVERRIDE_VARIABLE}: expected {"keys": [{"id", "publicKey"}]}`);
  }
  return { keys: keys as TrustedKey[] };
}
