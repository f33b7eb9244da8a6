import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createReadStream, type ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, PraxisboxError, describeError } from '../agent/core/errors.js';

/**
 * The serial transport firmata-io needs (an emitter of `open`/`data`/`close`/`error` with
 * `write(buffer, cb)`), over the tty device itself: the line is set to StandardFirmata's 57600 baud
 * raw mode with `stty` (coreutils), then read and written as a file. This replaces the native
 * `serialport` binding johnny-five would otherwise load. Reads block one libuv pool thread while
 * the panel is connected.
 */
export interface TtyTransport extends EventEmitter {
  write(data: Buffer, cb?: (err?: Error | null) => void): void;
  close(): Promise<void>;
}

export async function openTtyTransport(port: string, baud = 57_600): Promise<TtyTransport> {
  await new Promise<void>((resolve, reject) => {
    execFile('stty', ['-F', port, String(baud), 'raw', '-echo', '-hupcl'], { timeout: 5_000 }, (err, _out, stderr) => {
      if (!err) return resolve();
      const why = stderr.split('\n')[0]?.trim().slice(0, 200) || describeError(err);
      reject(new PraxisboxError(ErrorCode.DeviceUnavailable, `serial port ${port} cannot be configured: ${why}`, { cause: err }));
    });
  });
  let handle: FileHandle;
  try {
    handle = await open(port, 'r+');
  } catch (err) {
    throw new PraxisboxError(ErrorCode.DeviceUnavailable, `serial port ${port} cannot be opened (${describeError(err)})`, { cause: err });
  }
  const emitter = new EventEmitter() as TtyTransport;
  let closed = false;
  const reader: ReadStream = createReadStream('', { fd: handle.fd, autoClose: false, highWaterMark: 256 });
  reader.on('data', (chunk) => emitter.emit('data', chunk));
  reader.on('error', (err) => {
    if (!closed) emitter.emit('error', err);
  });
  reader.on('end', () => {
    if (!closed) emitter.emit('close', { disconnect: true, disconnected: true });
  });
  emitter.write = (data, cb) => {
    handle.write(data).then(
      () => cb?.(null),
      (err: Error) => {
        cb?.(err);
        if (!closed) emitter.emit('error', err);
      },
    );
  };
  emitter.close = async () => {
    if (closed) return;
    closed = true;
    reader.destroy();
    await handle.close().catch(() => undefined);
    emitter.emit('close');
  };
  setImmediate(() => emitter.emit('open'));
  return emitter;
}
