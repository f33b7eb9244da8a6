import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, PraxisboxError } from './errors.js';
import { ensurePrivateDir } from './durable-file.js';

/**
 * One agent per data directory: two would interleave writes to the same outbox segments. The lock
 * is a pid file created exclusively; a file left by a killed agent (its pid gone, or reused by a
 * process that is not an agent) is taken over.
 */
export async function acquireDataDirLock(dataDir: string, pid = process.pid): Promise<{ release: () => Promise<void> }> {
  await ensurePrivateDir(dataDir);
  const file = path.join(dataDir, 'agent.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return {
        release: async () => {
          const owner = await fs.readFile(file, 'utf8').catch(() => '');
          if (owner.trim() === String(pid)) await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && (await isAgentProcess(holder))) {
      throw new PraxisboxError(ErrorCode.CommandRejected, `another agent (pid ${holder}) is already running on data directory ${dataDir}`);
    }
    await fs.rm(file, { force: true });
  }
  throw new PraxisboxError(ErrorCode.Internal, `could not take the data directory lock in ${dataDir}`);
}

async function isAgentProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  // Without /proc (not Linux) a live pid is assumed to be an agent: refusing is the safe side.
  return cmdline === undefined || /praxisbox|node/.test(cmdline);
}
