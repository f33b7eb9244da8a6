import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { webcrypto, X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { ensurePrivateDir, readIfExists, writeFileDurable } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the certificate (DER), as AA:BB:… like browsers show it. */
  fingerprint: string;
  notAfter: string;
  created: boolean;
}

const VALID_DAYS = 3650;

/**
 * The box's self-signed certificate: ECDSA P-256, made at first start and kept in `dir`
 * (tls-cert.pem, tls-key.pem; 0600) so its fingerprint — shown by `praxisbox status`, the setup
 * page and (later) the label — stays the same. A pair that cannot be used (unreadable, key not
 * matching, expired) is kept aside with a suffix and replaced, loudly: a box without a working
 * web UI would be worse than a changed fingerprint.
 */
export async function loadOrCreateCertificate(dir: string, boxId: string, now: number, log: Logger): Promise<TlsMaterial> {
  await ensurePrivateDir(dir);
  const certFile = path.join(dir, 'tls-cert.pem');
  const keyFile = path.join(dir, 'tls-key.pem');
  const [certBuf, keyBuf] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
  if (certBuf !== undefined && keyBuf !== undefined) {
    const problem = checkPair(certBuf.toString('utf8'), keyBuf.toString('utf8'), now);
    if (problem === undefined) return describe(certBuf.toString('utf8'), keyBuf.toString('utf8'), false);
    const suffix = `.unusable-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    await fs.rename(certFile, certFile + suffix).catch(() => undefined);
    await fs.rename(keyFile, keyFile + suffix).catch(() => undefined);
    log.error({ problem }, `TLS certificate unusable (${problem}): a new one is made; its fingerprint changes`);
  }
  const { cert, key } = await generateSelfSigned(boxId, now);
  await writeFileDurable(keyFile, key, 0o600);
  await writeFileDurable(certFile, cert, 0o600);
  const material = describe(cert, key, true);
  log.info({ fingerprint: material.fingerprint, notAfter: material.notAfter }, 'TLS certificate created');
  return material;
}

function checkPair(cert: string, key: string, now: number): string | undefined {
  try {
    const x = new X509Certificate(cert);
    if (!x.checkPrivateKey(createPrivateKey(key))) return 'key does not match the certificate';
    if (Date.parse(x.validTo) <= now) return 'certificate expired';
    return undefined;
  } catch {
    return 'certificate or key cannot be read';
  }
}

function describe(cert: string, key: string, created: boolean): TlsMaterial {
  const x = new X509Certificate(cert);
  return { cert, key, fingerprint: x.fingerprint256, notAfter: new Date(x.validTo).toISOString(), created };
}

/**
 * Made with @peculiar/x509 over Node's WebCrypto (no openssl binary needed on the box). The
 * library needs the reflect-metadata polyfill; both are loaded here, on first start only.
 */
async function generateSelfSigned(boxId: string, now: number): Promise<{ cert: string; key: string }> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const host = os.hostname();
  const names: { type: 'dns' | 'ip'; value: string }[] = [
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: `${boxId}.local` },
    ...(host && /^[A-Za-z0-9-]+$/.test(host) ? [{ type: 'dns' as const, value: host }, { type: 'dns' as const, value: `${host}.local` }] : []),
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: `CN=Praxisbox ${boxId}, O=Praxisbox`,
      notBefore: new Date(now - 24 * 3600_000),
      notAfter: new Date(now + VALID_DAYS * 24 * 3600_000),
      keys,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
      ],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert: cert.toString('pem') + '\n', key };
}
