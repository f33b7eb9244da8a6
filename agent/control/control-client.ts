import http from 'node:http';
import type { CommandReply } from '../core/commands.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

/** Thrown when no agent answers on the control socket (not started, or stopped). */
export class AgentNotRunning extends PraxisboxError {
  constructor(socketPath: string) {
    super(ErrorCode.DeviceUnavailable, `the agent is not running (no answer on ${socketPath})`);
  }
}

/** Sends one command to the running agent over its control socket. */
export function callAgent(socketPath: string, name: string, args: unknown, timeoutMs = 10_000): Promise<CommandReply> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name, args });
    const req = http.request(
      { socketPath, path: '/v1/command', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CommandReply);
          } catch {
            reject(new PraxisboxError(ErrorCode.Internal, 'the agent sent an unreadable reply'));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new PraxisboxError(ErrorCode.Timeout, `the agent did not answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new AgentNotRunning(socketPath));
      else reject(err);
    });
    req.end(body);
  });
}
