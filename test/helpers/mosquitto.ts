import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForPort } from './free-port.js';
import { tempDir } from './fixtures.js';

export interface Mosquitto {
  port: number;
  url: string;
  /** Stops the broker (SIGTERM, then SIGKILL) — the port stays reserved for `start`. */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  cleanup: () => Promise<void>;
}

/**
 * A real Mosquitto 2 broker (Debian package) on a free loopback port with anonymous access, in a
 * temp dir. Without `persistence` a restart loses sessions like a failover would; with it, sessions
 * and queued QoS 1 messages survive a restart (saved on SIGTERM), like a production broker.
 */
export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Mutual TLS: clients must present a certificate signed by the CA. */
  requireClientCert?: boolean;
}

export async function startMosquitto(opts: { maxPacketBytes?: number; persistence?: boolean; tls?: MosquittoTls } = {}): Promise<Mosquitto> {
  const { dir, cleanup } = await tempDir('praxisbox-mosquitto-');
  const port = await freePort();
  // Started as root, mosquitto drops to its own user and must still write its persistence file here.
  if (opts.persistence) await fs.chmod(dir, 0o777);
  const conf = path.join(dir, 'mosquitto.conf');
  await fs.writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', ...(opts.persistence ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0'] : ['persistence false']), 'log_dest none', 'max_queued_messages 100000', ...(opts.maxPacketBytes ? [`message_size_limit ${opts.maxPacketBytes}`] : []), ...(opts.tls ? [`cafile ${opts.tls.caFile}`, `certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`, `require_certificate ${opts.tls.requireClientCert ? 'true' : 'false'}`] : [])].join('\n') + '\n',
  );
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<never>((_, reject) => proc?.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${stderr}`))));
    await Promise.race([waitForPort(port), exited]);
    exited.catch(() => undefined);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 3_000);
    await done;
    clearTimeout(timer);
  };
  await start();
  return {
    port,
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    stop,
    start,
    cleanup: async () => {
      await stop();
      await cleanup();
    },
  };
}
