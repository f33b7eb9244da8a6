import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { isReleaseVersion } from './semver.js';

/**
 * A release is a tarball plus a signed manifest (the `.sig.json` file): the manifest names the
 * version, size and SHA-256 of the tarball and is signed with Ed25519 by one key of the keyring.
 * Version and size are known (and checked) before anything is downloaded or unpacked.
 */
export const MANIFEST_FORMAT = 'praxisbox-release-1';

export interface ReleaseManifest {
  format: typeof MANIFEST_FORMAT;
  keyId: string;
  version: string;
  sha256: string;
  size: number;
  /** Boxes running an older version must first update to this one (e.g. to receive a new keyring). */
  minVersion?: string;
}

export interface SignedManifest extends ReleaseManifest {
  /** Ed25519 signature (base64) over `manifestBytes(manifest)`. */
  signature: string;
}

/** A trusted public key: `publicKey` is the raw 32-byte Ed25519 key, base64url (the JWK `x`). */
export interface TrustedKey {
  id: string;
  publicKey: string;
  note?: string;
}

export interface Keyring {
  keys: readonly TrustedKey[];
}

const KEY_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** The exact bytes that are signed: one `name=value` line per field, in a fixed order. */
export function manifestBytes(m: ReleaseManifest): Buffer {
  return Buffer.from(`${MANIFEST_FORMAT}\nkeyId=${m.keyId}\nversion=${m.version}\nsha256=${m.sha256}\nsize=${m.size}\nminVersion=${m.minVersion ?? ''}\n`, 'utf8');
}

const bad = (what: string): PraxisboxError => new PraxisboxError(ErrorCode.InvalidInput, `release signature file: ${what}`);

/** Parses and shape-checks a `.sig.json` (JSON text or an already parsed object); the signature is checked by `verifyManifest`. */
export function parseSignedManifest(input: string | unknown): SignedManifest {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw bad('not JSON');
    }
  }
  if (typeof raw !== 'object' || raw === null) throw bad('not an object');
  const o = raw as Record<string, unknown>;
  if (o['format'] !== MANIFEST_FORMAT) throw bad(`format must be ${MANIFEST_FORMAT}`);
  if (typeof o['keyId'] !== 'string' || !KEY_ID.test(o['keyId'])) throw bad('keyId missing or malformed');
  if (typeof o['version'] !== 'string' || !isReleaseVersion(o['version'])) throw bad('version missing or not MAJOR.MINOR.PATCH');
  if (typeof o['sha256'] !== 'string' || !SHA256.test(o['sha256'])) throw bad('sha256 missing or malformed');
  if (typeof o['size'] !== 'number' || !Number.isSafeInteger(o['size']) || o['size'] <= 0) throw bad('size missing or not a positive integer');
  if (o['minVersion'] !== undefined && (typeof o['minVersion'] !== 'string' || !isReleaseVersion(o['minVersion']))) throw bad('minVersion malformed');
  if (typeof o['signature'] !== 'string' || o['signature'].length === 0) throw bad('signature missing');
  return {
    format: MANIFEST_FORMAT,
    keyId: o['keyId'],
    version: o['version'],
    sha256: o['sha256'],
    size: o['size'],
    ...(o['minVersion'] !== undefined ? { minVersion: o['minVersion'] as string } : {}),
    signature: o['signature'],
  };
}

function publicKeyOf(key: TrustedKey): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey }, format: 'jwk' });
}

/** Throws CommandRejected unless the manifest is signed by a key of `keyring`. */
export function verifyManifest(m: SignedManifest, keyring: Keyring): void {
  const key = keyring.keys.find((k) => k.id === m.keyId);
  if (!key) throw new PraxisboxError(ErrorCode.CommandRejected, `release is signed with key ${m.keyId}, which this box does not trust`);
  let ok: boolean;
  try {
    ok = verify(null, manifestBytes(m), publicKeyOf(key), Buffer.from(m.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw new PraxisboxError(ErrorCode.CommandRejected, `release signature does not verify with key ${m.keyId}`);
}

/** Signs a manifest with a PKCS#8 PEM Ed25519 private key (vendor side: `praxisbox release pack`). */
export function signManifest(m: Omit<ReleaseManifest, 'format'>, privateKeyPem: string): SignedManifest {
  const manifest: ReleaseManifest = { format: MANIFEST_FORMAT, ...m };
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new PraxisboxError(ErrorCode.InvalidInput, 'the signing key is not an Ed25519 key');
  return { ...manifest, signature: sign(null, manifestBytes(manifest), key).toString('base64') };
}

/** A new key pair: the private key as PKCS#8 PEM, the public half as a keyring entry. */
export function generateReleaseKey(id: string): { privateKeyPem: string; trusted: TrustedKey } {
  if (!KEY_ID.test(id)) throw new PraxisboxError(ErrorCode.InvalidInput, 'key id must be lower-case letters, digits, dots and dashes');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), trusted: { id, publicKey: String(jwk.x) } };
}
