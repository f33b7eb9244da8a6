import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { MqttPacketSizeGuard } from './mqtt-size-guard.js';

/**
 * A socket as aedes sees it, with every incoming byte checked by the packet size guard first. An
 * oversized packet closes the connection before the broker buffers it. Also carries the peer
 * address for authentication decisions (loopback-only anonymous access).
 */
export class GuardedConnection extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly #socket: Socket;
  readonly #guard: MqttPacketSizeGuard;
  readonly #onViolation: (reason: string) => void;

  constructor(socket: Socket, limitBytes: number, onViolation: (reason: string) => void) {
    super();
    this.#socket = socket;
    this.#guard = new MqttPacketSizeGuard(limitBytes);
    this.#onViolation = onViolation;
    this.remoteAddress = socket.remoteAddress;
    socket.on('data', (chunk: Buffer) => {
      const violation = this.#guard.feed(chunk);
      if (violation !== undefined) {
        this.#onViolation(violation);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}
