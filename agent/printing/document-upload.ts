import fs from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PrintError } from './print-error.js';

/**
 * Where a job's PDF comes from. A file path is the print queue's normal case (its durable spool):
 * it is sent through two reused 64 KiB buffers, so a 50 MB PDF leaves no 50 MB of short-lived
 * Buffers behind for the GC (measured: a plain ReadStream grew RSS by ~25 MB for 50 MB, see
 * docs/printing.md). Streams and async iterables are piped as they come.
 */
export type DocumentSource = Readable | AsyncIterable<Uint8Array> | { path: string };

export interface OpenedDocument {
  /** Byte length when known (files always), for Content-Length. */
  length: number | undefined;
  /** Writes the document into `out` and ends it. */
  send(out: Writable): Promise<void>;
  /** Set when the failure came from the document side (file vanished, stream errored). */
  readonly failure: unknown;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

function unreadable(cause: unknown): PrintError {
  return new PrintError('document-unreadable', 'the document could not be read', { cause, requestComplete: false });
}

export async function openDocument(source: DocumentSource, declaredLength: number | undefined): Promise<OpenedDocument> {
  if (source instanceof Readable || Symbol.asyncIterator in source) return streamDocument(source, declaredLength);
  let fh: fs.FileHandle;
  let size: number;
  try {
    fh = await fs.open(source.path, 'r');
    size = (await fh.stat()).size;
  } catch (err) {
    throw unreadable(err);
  }
  let failure: unknown;
  return {
    length: size,
    get failure() {
      return failure;
    },
    async send(out) {
      const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
      let previous: Promise<void> = Promise.resolve();
      let sent = 0;
      for (let i = 0; ; i ^= 1) {
        const buf = buffers[i] ?? Buffer.allocUnsafe(CHUNK);
        let bytesRead: number;
        try {
          ({ bytesRead } = await fh.read(buf, 0, CHUNK, null));
        } catch (err) {
          failure = err;
          throw err;
        }
        // The write issued with this buffer two rounds ago completed before the last round's
        // write was issued (awaited below), so refilling it cannot corrupt bytes in flight.
        await previous;
        if (bytesRead === 0) break;
        sent += bytesRead;
        previous = write(out, buf.subarray(0, bytesRead));
      }
      if (sent !== size) {
        failure = new Error(`file changed size while sending (${sent} of ${size} bytes)`);
        throw failure;
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    },
    close: () => fh.close(),
  };
}

function write(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function streamDocument(source: Readable | AsyncIterable<Uint8Array>, declaredLength: number | undefined): OpenedDocument {
  const readable = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  let failure: unknown;
  readable.once('error', (err) => (failure ??= err));
  return {
    length: declaredLength,
    get failure() {
      return failure;
    },
    send: (out) => pipeline(readable, out),
    close: async () => {
      readable.destroy();
    },
  };
}
