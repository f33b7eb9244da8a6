import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, createHmac } from 'node:crypto';
import { ErrorCode, PraxisboxError } from './errors.js';
import { ensurePrivateDir, readIfExists, writeFileDurable } from './durable-file.js';

/** Who this box is. The id is public (topic names, labels); the secret never leaves the box or a log. */
export interface BoxIdentity {
  boxId: string;
  createdAt: string;
}

export interface DeviceSecret {
  /** Derives a purpose-bound value (e.g. the setup code) without exposing the secret itself. */
  derive(purpose: string): Buffer;
}

const BOX_ID_PATTERN = /^pbx-[0-9a-z]{12}$/;
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** `pbx-` + 12 Crockford base32 characters (60 random bits): safe in MQTT topics and on a label. */
export function newBoxId(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(12);
  let id = '';
  for (const b of bytes) id += CROCKFORD[b & 31];
  return `pbx-${id}`;
}

class FileSecret implements DeviceSecret {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    this.#key = key;
  }
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.#key).update(`praxisbox:${purpose}`).digest();
  }
  toJSON(): string {
    return '[device secret]';
  }
}

/**
 * Loads the box identity and device secret, creating both on first start (files 0600). A file that
 * exists but is unreadable or malformed is an error, never silently replaced: a new id would make
 * the box a stranger to its cloud account.
 */
export async function loadOrCreateIdentity(files: { identityFile: string; secretFile: string }, now: () => number): Promise<{ identity: BoxIdentity; secret: DeviceSecret; created: boolean }> {
  await ensurePrivateDir(path.dirname(files.identityFile));
  let created = false;
  let secretBuf = await readIfExists(files.secretFile);
  if (secretBuf === undefined) {
    await writeFileDurable(files.secretFile, randomBytes(32).toString('base64url') + '\n', 0o600);
    secretBuf = await fs.readFile(files.secretFile);
    created = true;
  }
  const key = parseSecret(secretBuf, files.secretFile);

  let identityBuf = await readIfExists(files.identityFile);
  if (identityBuf === undefined) {
    const fresh: BoxIdentity = { boxId: newBoxId(), createdAt: new Date(now()).toISOString() };
    await writeFileDurable(files.identityFile, `${JSON.stringify(fresh, null, 2)}\n`, 0o600);
    identityBuf = Buffer.from(JSON.stringify(fresh));
    created = true;
  }
  let identity: BoxIdentity;
  try {
    identity = JSON.parse(identityBuf.toString('utf8')) as BoxIdentity;
  } catch {
    throw new PraxisboxError(ErrorCode.Corrupt, `identity file ${path.basename(files.identityFile)} is not valid JSON`);
  }
  if (typeof identity.boxId !== 'string' || !BOX_ID_PATTERN.test(identity.boxId)) {
    throw new PraxisboxError(ErrorCode.Corrupt, `identity file ${path.basename(files.identityFile)} has no valid box id`);
  }
  return { identity, secret: new FileSecret(key), created };
}

function parseSecret(buf: Buffer, file: string): Buffer {
  const key = Buffer.from(buf.toString('utf8').trim(), 'base64url');
  if (key.length < 32) throw new PraxisboxError(ErrorCode.Corrupt, `device secret file ${path.basename(file)} is malformed`);
  return key;
}

/** Reads the device secret without creating it (local CLI tools); undefined when the box has none yet. */
export async function readDeviceSecret(secretFile: string): Promise<DeviceSecret | undefined> {
  const buf = await readIfExists(secretFile);
  return buf === undefined ? undefined : new FileSecret(parseSecret(buf, secretFile));
}
