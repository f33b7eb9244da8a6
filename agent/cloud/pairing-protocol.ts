import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The pairing protocol (device authorization flow like RFC 8628) over the provisioning topics, shared
 * by the box and the cloud simulator. Documented in docs/mqtt-api.md ("Pairing").
 *
 * Requests (box → cloud) go to `praxisbox/pairing/v1/{boxId}/req`; replies (cloud → box) come on
 * `praxisbox/pairing/v1/{boxId}/res`. The shared provisioning account may read every `res` topic, so
 * every reply is sealed to the X25519 key the box made for this one request (ECDH + HKDF-SHA256 +
 * AES-256-GCM): only the requesting box can read its user code and, later, its credentials. Requests
 * carry a random request secret that only the cloud sees (the provisioning account may not read `req`).
 */
export const PAIRING_PREFIX = 'praxisbox/pairing/v1';

export function pairingTopics(boxId: string): { request: string; reply: string } {
  return { request: `${PAIRING_PREFIX}/${boxId}/req`, reply: `${PAIRING_PREFIX}/${boxId}/res` };
}

/** `praxisbox/pairing/v1/{boxId}/req` → boxId; undefined for anything else. */
export function parsePairingRequestTopic(topic: string): string | undefined {
  const m = /^praxisbox\/pairing\/v1\/([^/#+]+)\/req$/.exec(topic);
  return m?.[1];
}

/** Where the box announces an unpairing over its own (authenticated) link: `praxisbox/v1/{boxId}/pairing`. */
export const UNPAIR_RELATIVE_TOPIC = 'pairing';

/** Stable error codes of the pairing flow (replies, `cloud.pair.status`, cloud-sim CLI). */
export const PairingErrorCode = {
  Expired: 'PAIRING_EXPIRED',
  Denied: 'PAIRING_DENIED',
  CodeUsed: 'PAIRING_CODE_USED',
  UnknownCode: 'PAIRING_UNKNOWN_CODE',
  Invalid: 'PAIRING_INVALID',
  CloudUnreachable: 'PAIRING_CLOUD_UNREACHABLE',
  NoReply: 'PAIRING_NO_REPLY',
  AlreadyPaired: 'PAIRING_ALREADY_PAIRED',
  StoreFailed: 'PAIRING_STORE_FAILED',
} as const;
export type PairingErrorCode = (typeof PairingErrorCode)[keyof typeof PairingErrorCode];

/** English and German text for each code: the web UI shows `messageDe`. */
export const PAIRING_MESSAGES: Record<PairingErrorCode, { en: string; de: string }> = {
  PAIRING_EXPIRED: { en: 'The pairing code has expired. Start the pairing again.', de: 'Der Kopplungscode ist abgelaufen. Bitte starten Sie die Kopplung neu.' },
  PAIRING_DENIED: { en: 'The pairing was denied in the cloud account.', de: 'Die Kopplung wurde im Cloud-Konto abgelehnt.' },
  PAIRING_CODE_USED: { en: 'This pairing code has already been used.', de: 'Dieser Kopplungscode wurde bereits verwendet.' },
  PAIRING_UNKNOWN_CODE: { en: 'No pairing with this code is waiting.', de: 'Zu diesem Code wartet keine Kopplung.' },
  PAIRING_INVALID: { en: 'The cloud rejected the pairing request as invalid.', de: 'Die Cloud hat die Kopplungsanfrage als ungültig abgelehnt.' },
  PAIRING_CLOUD_UNREACHABLE: { en: 'The cloud cannot be reached for pairing.', de: 'Die Cloud ist für die Kopplung nicht erreichbar.' },
  PAIRING_NO_REPLY: { en: 'The cloud did not answer the pairing request in time.', de: 'Die Cloud hat nicht rechtzeitig auf die Kopplungsanfrage geantwortet.' },
  PAIRING_ALREADY_PAIRED: { en: 'The box is already paired. Unpair it first.', de: 'Die Box ist bereits gekoppelt. Bitte zuerst trennen.' },
  PAIRING_STORE_FAILED: { en: 'The credentials could not be stored on the box.', de: 'Die Zugangsdaten konnten auf der Box nicht gespeichert werden.' },
};

export interface PairingError {
  code: PairingErrorCode;
  message: string;
  messageDe: string;
}

export function pairingError(code: PairingErrorCode): PairingError {
  const m = PAIRING_MESSAGES[code];
  return { code, message: m.en, messageDe: m.de };
}

/** RFC 8628 §6.1: consonants only (no vowels → no words, no 0/O or 1/I confusion), 20^8 ≈ 2^34.6. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export function newUserCode(pick: (n: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[pick(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What people type: any case, with or without the dash or spaces → `ABCD-EFGH`, or undefined. */
export function normalizeUserCode(input: string): string | undefined {
  const letters = input.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== 8 || [...letters].some((c) => !USER_CODE_ALPHABET.includes(c))) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

const ID = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });

export const PairingRequest = Type.Union(
  [
    Type.Object(
      {
        op: Type.Literal('start'),
        requestId: ID,
        boxId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
        publicKey: Type.String({ maxLength: 200, description: 'X25519 public key of this request (SPKI DER, base64url)' }),
        secret: ID,
        version: Type.Optional(Type.String({ maxLength: 64 })),
      },
      { additionalProperties: false },
    ),
    Type.Object({ op: Type.Union([Type.Literal('poll'), Type.Literal('ack')]), requestId: ID, secret: ID }, { additionalProperties: false }),
  ],
  { $id: 'pairing-request' },
);
export type PairingRequest = Static<typeof PairingRequest>;

export const SealedBox = Type.Object(
  { epk: Type.String(), iv: Type.String(), ct: Type.String(), tag: Type.String() },
  { additionalProperties: false, description: 'X25519-HKDF-SHA256-A256GCM; plaintext is a pairing-reply-plain JSON' },
);
export type SealedBox = Static<typeof SealedBox>;

export const PairingEnvelope = Type.Object(
  {
    requestId: Type.String(),
    sealed: Type.Optional(SealedBox),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  },
  { $id: 'pairing-reply', additionalProperties: false },
);
export type PairingEnvelope = Static<typeof PairingEnvelope>;

export const PairingReplyPlain = Type.Union(
  [
    Type.Object({
      type: Type.Literal('started'),
      userCode: Type.String(),
      verificationUri: Type.String(),
      verificationUriComplete: Type.String(),
      expiresIn: Type.Integer({ minimum: 1 }),
      interval: Type.Integer({ minimum: 1 }),
    }),
    Type.Object({ type: Type.Literal('pending') }),
    Type.Object({
      type: Type.Literal('approved'),
      username: Type.String({ minLength: 1 }),
      password: Type.String({ minLength: 1 }),
      account: Type.Object({ id: Type.String(), name: Type.String() }),
    }),
    Type.Object({ type: Type.Literal('error'), code: Type.String(), message: Type.String() }),
  ],
  { $id: 'pairing-reply-plain' },
);
export type PairingReplyPlain = Static<typeof PairingReplyPlain>;

let checks: { request: ReturnType<typeof TypeCompiler.Compile>; envelope: ReturnType<typeof TypeCompiler.Compile>; plain: ReturnType<typeof TypeCompiler.Compile> } | undefined;
const compiled = () => (checks ??= { request: TypeCompiler.Compile(PairingRequest), envelope: TypeCompiler.Compile(PairingEnvelope), plain: TypeCompiler.Compile(PairingReplyPlain) });
export const isPairingRequest = (v: unknown): v is PairingRequest => compiled().request.Check(v);
export const isPairingEnvelope = (v: unknown): v is PairingEnvelope => compiled().envelope.Check(v);
export const isPairingReplyPlain = (v: unknown): v is PairingReplyPlain => compiled().plain.Check(v);

/** A fresh X25519 key pair for one pairing request; the public half as SPKI DER base64url. */
export function newRequestKey(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64url') };
}

function derive(shared: Buffer, epk: string, recipient: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.from(`${epk}.${recipient}`), 'praxisbox pairing reply v1', 32));
}

/** Seals `plain` to the request's public key with a fresh ephemeral key (cloud side). */
export function seal(plain: unknown, recipientPublicKey: string): SealedBox {
  const recipient = createPublicKey({ key: Buffer.from(recipientPublicKey, 'base64url'), format: 'der', type: 'spki' });
  const eph = generateKeyPairSync('x25519');
  const epk = eph.publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
  const key = derive(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), epk, recipientPublicKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  return { epk, iv: iv.toString('base64url'), ct: ct.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
}

/** Opens a sealed reply with the request's private key (box side); throws when it was not for us or was altered. */
export function open(box: SealedBox, privateKey: KeyObject, ownPublicKey: string): unknown {
  const epk = createPublicKey({ key: Buffer.from(box.epk, 'base64url'), format: 'der', type: 'spki' });
  const key = derive(diffieHellman({ privateKey, publicKey: epk }), box.epk, ownPublicKey);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(box.tag, 'base64url'));
  const plain = Buffer.concat([decipher.update(Buffer.from(box.ct, 'base64url')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as unknown;
}
