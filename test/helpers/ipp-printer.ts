import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './fixtures.js';

/**
 * A real IPP Everywhere printer for tests: CUPS' `ippeveprinter` on a free loopback port, with its
 * own D-Bus system bus (it hangs without one, see the domain notes §6) and a job script that
 * records what the printer saw — the IPP_* environment and the document bytes — per job id.
 */

const run = promisify(execFile);

export interface IppPrinterOptions {
  name?: string;
  /** -f: document formats (default application/pdf). */
  formats?: string[];
  /** -K: serve ipps with a freshly generated self-signed localhost certificate. */
  tls?: boolean;
  /** -A: require Basic auth, checked by a PAM service that accepts exactly these credentials. */
  auth?: { username: string; password: string };
  /** -2: offer two-sided printing. */
  duplex?: boolean;
  /** Seconds the job script sleeps: the printer stays busy that long. */
  jobSeconds?: number;
  /** Lines the job script writes to stderr (ippeveprinter reads `STATE: +keyword` from there). */
  jobStderr?: string[];
  /** Copy each document and its IPP_* environment into `jobsDir` (default true). */
  capture?: boolean;
}

export interface CapturedJob {
  jobId: number;
  env: Record<string, string>;
  documentPath: string;
}

export interface IppPrinter {
  port: number;
  /** ipp://localhost:PORT/ipp/print */
  uri: string;
  /** ipps://localhost:PORT/ipp/print (same port: ippeveprinter detects TLS per connection). */
  secureUri: string;
  certPem: string | undefined;
  certFingerprint: string | undefined;
  jobsDir: string;
  pid: number;
  /** Resolves once the job script has recorded the job (or rejects after `timeoutMs`). */
  capturedJob(jobId: number, timeoutMs?: number): Promise<CapturedJob>;
  stop(): Promise<void>;
}

/** Thrown when a peer needs something this machine lacks (no root for PAM): tests skip with its message. */
export class PeerUnavailable extends Error {}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const BUS_CONFIG = (socket: string): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function jobScript(jobsDir: string, o: IppPrinterOptions): string {
  const lines = ['#!/bin/sh'];
  for (const l of o.jobStderr ?? []) lines.push(`echo ${shellQuote(l)} >&2`);
  if (o.capture !== false) {
    lines.push(`out=${shellQuote(jobsDir)}/"$IPP_JOB_ID"`, 'cp "$1" "$out.pdf"', 'env | grep "^IPP_" > "$out.env.tmp"', 'mv "$out.env.tmp" "$out.env"');
  }
  if (o.jobSeconds) lines.push(`sleep ${o.jobSeconds}`);
  lines.push('exit 0', '');
  return lines.join('\n');
}

async function makeCertificate(dir: string): Promise<{ pem: string; fingerprint: string }> {
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(dir, 'localhost.key'), '-out', path.join(dir, 'localhost.crt'), '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]).catch((err: NodeJS.ErrnoException) => {
    // Debian marks openssl "optional": say what is missing instead of a bare ENOENT.
    throw err.code === 'ENOENT' ? new Error('the openssl command is missing (Debian package openssl): needed for the ipps test certificate') : err;
  });
  const pem = await fs.readFile(path.join(dir, 'localhost.crt'), 'utf8');
  return { pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/**
 * Linux-PAM only reads services from its config directories (an absolute path as service name was
 * tried: pam_start ignores it and falls back to `other`), so the test service is a uniquely named
 * file in /etc/pam.d, removed again on stop. pam_exec hands the password to a script on stdin.
 */
async function installPamService(dir: string, auth: { username: string; password: string }): Promise<{ service: string; file: string; remove: () => Promise<void> }> {
  const service = `praxisbox-test-${randomBytes(6).toString('hex')}`;
  const check = path.join(dir, 'pam-check.sh');
  await fs.writeFile(check, `#!/bin/sh\nread -r pw\n[ "$PAM_USER" = ${shellQuote(auth.username)} ] && [ "$pw" = ${shellQuote(auth.password)} ]\n`, { mode: 0o700 });
  const file = path.join('/etc/pam.d', service);
  try {
    await fs.writeFile(file, `auth required pam_exec.so expose_authtok quiet ${check}\naccount required pam_permit.so\n`, { flag: 'wx' });
  } catch (err) {
    throw new PeerUnavailable(`cannot install a PAM service in /etc/pam.d (${(err as NodeJS.ErrnoException).code ?? 'error'}): Basic auth tests need root`);
  }
  return { service, file, remove: () => fs.rm(file, { force: true }) };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ippeveprinter exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`ippeveprinter did not listen on ${port} within ${timeoutMs} ms`);
}

function stopPid(pid: number | undefined, child?: ChildProcess): Promise<void> {
  if (pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      resolve();
      return;
    }
    if (!child) {
      resolve();
      return;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const force = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
  });
}

/**
 * A test process killed by tap's timeout runs no teardown, and neither the forked dbus-daemon nor
 * ippeveprinter would notice: a detached shell polls this process and ends the peers by PID when
 * it is gone. A normal stop ends the watchdog first.
 */
function startWatchdog(pids: number[], paths: string[]): () => Promise<void> {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${pids.join(' ')} 2>/dev/null; sleep 1; rm -rf ${paths.map(shellQuote).join(' ')}`;
  const dog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  dog.unref();
  return () => stopPid(dog.pid, dog);
}

export async function startIppPrinter(o: IppPrinterOptions = {}): Promise<IppPrinter> {
  const { dir, cleanup } = await tempDir('praxisbox-ipp-');
  const cleanups: Array<() => Promise<void>> = [cleanup];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const jobsDir = path.join(dir, 'jobs');
    const spool = path.join(dir, 'spool');
    await fs.mkdir(jobsDir);
    await fs.mkdir(spool);
    const busSocket = path.join(dir, 'bus');
    await fs.writeFile(path.join(dir, 'bus.conf'), BUS_CONFIG(busSocket));
    const { stdout } = await run('dbus-daemon', [`--config-file=${path.join(dir, 'bus.conf')}`, '--fork', '--print-pid']);
    const busPid = Number.parseInt(stdout.trim(), 10);
    cleanups.push(() => stopPid(busPid));

    const script = path.join(dir, 'job.sh');
    await fs.writeFile(script, jobScript(jobsDir, o), { mode: 0o755 });
    const args = ['-r', 'off', '-n', 'localhost', '-f', (o.formats ?? ['application/pdf']).join(','), '-d', spool, '-c', script];
    let cert: { pem: string; fingerprint: string } | undefined;
    if (o.tls) {
      const certDir = path.join(dir, 'certs');
      await fs.mkdir(certDir);
      cert = await makeCertificate(certDir);
      args.push('-K', certDir);
    }
    let pamFile: string | undefined;
    if (o.auth) {
      const pam = await installPamService(dir, o.auth);
      pamFile = pam.file;
      cleanups.push(pam.remove);
      args.push('-A', '--pam-service', pam.service);
    }
    if (o.duplex) args.push('-2');

    const port = await freePort();
    const log = await fs.open(path.join(dir, 'ippeveprinter.log'), 'w');
    cleanups.push(() => log.close());
    const child = spawn('ippeveprinter', [...args, '-p', String(port), o.name ?? 'Praxisbox Test Printer'], {
      env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${busSocket}` },
      stdio: ['ignore', log.fd, log.fd],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('ippeveprinter did not start');
    cleanups.push(() => stopPid(pid, child));
    cleanups.push(startWatchdog([busPid, pid], [dir, ...(pamFile ? [pamFile] : [])]));
    await waitForPort(port, child, 15_000);

    const uri = `ipp://localhost:${port}/ipp/print`;
    let stopped = false;
    return {
      port,
      uri,
      secureUri: uri.replace(/^ipp:/, 'ipps:'),
      certPem: cert?.pem,
      certFingerprint: cert?.fingerprint,
      jobsDir,
      pid,
      capturedJob: (jobId, timeoutMs = 15_000) => waitForCapture(jobsDir, jobId, timeoutMs),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await undo();
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

async function waitForCapture(jobsDir: string, jobId: number, timeoutMs: number): Promise<CapturedJob> {
  const envFile = path.join(jobsDir, `${jobId}.env`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await fs.readFile(envFile, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const env: Record<string, string> = {};
      for (const line of text.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return { jobId, env, documentPath: path.join(jobsDir, `${jobId}.pdf`) };
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} was not captured within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Parses ippeveprinter's text form of a collection (`{media-size={x-dimension=21000 …} media-source=main}`)
 * into nested records, so tests compare members regardless of their order.
 */
export function parseCollectionText(text: string): Record<string, unknown> {
  let pos = 0;
  const value = (): unknown => {
    if (text[pos] === '{') return collection();
    const start = pos;
    while (pos < text.length && text[pos] !== ' ' && text[pos] !== '}') pos++;
    return text.slice(start, pos);
  };
  const collection = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    pos++; // {
    while (pos < text.length && text[pos] !== '}') {
      if (text[pos] === ' ') {
        pos++;
        continue;
      }
      const eq = text.indexOf('=', pos);
      const key = text.slice(pos, eq);
      pos = eq + 1;
      out[key] = value();
    }
    pos++; // }
    return out;
  };
  return collection();
}
