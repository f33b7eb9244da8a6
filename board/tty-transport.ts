import { execFile, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, PraxisboxError, describeError } from '../agent/core/errors.js';

/**
 * The serial transport firmata-io needs (an emitter of `open`/`data`/`close`/`error` with
 * `write(buffer, cb)`), over the tty device itself: the line is set to StandardFirmata's 57600 baud
 * raw mode with `stty`, a `cat` child reads it (no pool thread parked in a blocking read, and
 * closing is killing it), and writes go to the device opened write-only. Both tools are coreutils.
 * This replaces the native `serialport` binding johnny-five would otherwise load.
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
  let out: FileHandle;
  try {
    out = await open(port, constants.O_WRONLY | constants.O_NOCTTY);
  } catch (err) {
    throw new PraxisboxError(ErrorCode.DeviceUnavailable, `serial port ${port} cannot be opened (${describeError(err)})`, { cause: err });
  }
  const reader = spawn('cat', [port], { stdio: ['ignore', 'pipe', 'ignore'] });
  const emitter = new EventEmitter() as TtyTransport;
  let closed = false;
  const exited = once(reader, 'exit').catch(() => undefined);
  reader.stdout.on('data', (chunk: Buffer) => emitter.emit('data', chunk));
  reader.on('error', (err) => {
    if (!closed) emitter.emit('error', err);
  });
  reader.on('exit', () => {
    // The device went away (USB unplugged) or could not be read.
    if (!closed) emitter.emit('close', { disconnect: true, disconnected: true });
  });
  let writing = Promise.resolve();
  emitter.write = (data, cb) => {
    if (closed) {
      cb?.(new Error('serial port closed'));
      return;
    }
    writing = writing.then(() =>
      out.write(data).then(
        () => cb?.(null),
        (err: Error) => {
          cb?.(err);
          if (!closed) emitter.emit('error', err);
        },
      ),
    );
  };
  emitter.close = async () => {
    if (closed) return;
    closed = true;
    if (reader.exitCode === null && reader.signalCode === null) {
      reader.kill('SIGTERM');
      await exited;
    }
    await writing;
    await out.close().catch(() => undefined);
    emitter.emit('close');
  };
  setImmediate(() => emitter.emit('open'));
  return emitter;
}
