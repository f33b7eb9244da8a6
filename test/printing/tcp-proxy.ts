import net from 'node:net';
import { freePort } from '../helpers/ipp-printer.js';

/**
 * A TCP relay on a fixed local port in front of a printer, so a test can take "the printer" away
 * (connections refused) and bring a fresh one back under the same URI — what a printer restart
 * looks like to the box: same address, new process, job ids counted from 1 again.
 */
export interface TcpProxy {
  port: number;
  uri: string;
  /** Relays new connections to this port from now on. */
  target(port: number): void;
  /** Closes the listener and every relayed connection (the printer is off). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, listenHost = '127.0.0.1'): Promise<TcpProxy> {
  const port = await freePort();
  let target = targetPort;
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const srv = net.createServer((client) => {
        const upstream = net.connect(target, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      srv.once('error', reject);
      srv.listen(port, listenHost, () => resolve());
      server = srv;
    });
  const down = async (): Promise<void> => {
    const srv = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  };
  await listen();
  return {
    port,
    uri: `ipp://localhost:${port}/ipp/print`,
    target: (p) => {
      target = p;
    },
    down,
    up: listen,
    close: down,
  };
}
