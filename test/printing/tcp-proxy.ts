import net from 'node:net';
import { freePort } from '../helpers/ipp-printer.js';

/**
 * A TCP relay on a fixed local port in front of a printer, so a test can take "the printer" away
 * and bring a fresh one back under the same URI — what a printer restart looks like to the box:
 * same address, new process, job ids counted from 1 again. While "down" the relay keeps its port
 * (another test could take a released port) and resets every connection (RST), as a host whose
 * printer service is gone does.
 */
export interface TcpProxy {
  port: number;
  uri: string;
  /** Relays new connections to this port from now on. */
  target(port: number): void;
  /** Resets every relayed and every new connection (the printer is off). */
  down(): Promise<void>;
  /** Relays again. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, listenHost = '127.0.0.1'): Promise<TcpProxy> {
  const port = await freePort();
  let target = targetPort;
  let refusing = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => resolve());
  });
  return {
    port,
    uri: `ipp://localhost:${port}/ipp/print`,
    target: (p) => {
      target = p;
    },
    down: async () => {
      refusing = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    up: async () => {
      refusing = false;
    },
    close: async () => {
      refusing = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
