import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../agent/core/logger.js';

/** A logger whose JSON lines are kept in memory, for assertions (and for the patient-data checks). */
export function captureLog(level = 'trace'): { log: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level, destination: sink });
  return { log, lines, text: () => lines.join('\n') };
}
