import type { Readable } from 'node:stream';

/** Calls `onLine` for every complete line a child process writes (a partial last line waits). */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}
