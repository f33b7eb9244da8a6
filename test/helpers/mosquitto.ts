import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForPort } from './free-port.js';
import { tempDir } from './fixtures.js';

/** The Debian package's dynamic-security plugin, wherever the multiarch directory is. */
async function dynsecPlugin(): Promise<string> {
  for (const arch of ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf']) {
    const file = `/usr/lib/${arch}/mosquitto_dynamic_security.so`;
    if (await fs.stat(file).then(() => true, () => false)) return file;
  }
  throw new Error('mosquitto_dynamic_security.so not found (Debian package mosquitto)');
}

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

/**
 * `dynsec`: no anonymous access; accounts live in Mosquitto's dynamic-security plugin (changed at
 * run time over `$CONTROL/dynamic-security/v1`), starting with one admin (as `mosquitto_ctrl dynsec init`).
 */
export async function startMosquitto(opts: { maxPacketBytes?: number; persistence?: boolean; tls?: MosquittoTls; dynsec?: { adminUser: string; adminPassword: string } } = {}): Promise<Mosquitto> {
  const { dir, cleanup } = await tempDir('praxisbox-mosquitto-');
  const port = await freePort();
  // Started as root, mosquitto drops to its own user and must still write its persistence file here.
  if (opts.persistence || opts.dynsec) await fs.chmod(dir, 0o777);
  const dynsecFile = path.join(dir, 'dynamic-security.json');
  if (opts.dynsec) {
    await new Promise<void>((resolve, reject) => {
      const p = spawn('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, opts.dynsec?.adminUser ?? '', opts.dynsec?.adminPassword ?? ''], { stdio: 'ignore' });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_ctrl dynsec init exited ${code}`))));
    });
    await fs.chmod(dynsecFile, 0o666);
  }
  const conf = path.join(dir, 'mosquitto.conf');
  await fs.writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, ...(opts.dynsec ? ['allow_anonymous false', `plugin ${await dynsecPlugin()}`, `plugin_opt_config_file ${dynsecFile}`] : ['allow_anonymous true']), 'set_tcp_nodelay true', ...(opts.persistence ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0'] : ['persistence false']), 'log_dest none', 'max_queued_messages 100000', ...(opts.maxPacketBytes ? [`message_size_limit ${opts.maxPacketBytes}`] : []), ...(opts.tls ? [`cafile ${opts.tls.caFile}`, `certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`, `require_certificate ${opts.tls.requireClientCert ? 'true' : 'false'}`] : [])].join('\n') + '\n',
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
