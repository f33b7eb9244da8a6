import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A throw-away CA with a server certificate for 127.0.0.1/localhost and a client certificate,
 * made with openssl (Debian package) in `dir`.
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const p = (name: string): string => path.join(dir, name);
  const ossl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Praxisbox Test CA', '-keyout', p('ca.key'), '-out', p('ca.crt'));
  await fs.writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await fs.writeFile(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', 'pbx-test']] as const) {
    await ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`));
    await ossl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p(`${name}.ext`), '-out', p(`${name}.crt`));
  }
  // mosquitto drops privileges to its own user: it must be able to read these.
  for (const f of await fs.readdir(dir)) await fs.chmod(p(f), 0o644);
  await fs.chmod(dir, 0o755);
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key') };
}
