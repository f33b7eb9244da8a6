import path from 'node:path';
import { writeUsersFile } from './user-store.js';
import { AuditLog } from './audit-log.js';

/**
 * The documented local password reset: the admin account is removed, so the web UI asks for the
 * setup code again (printed on the box; `praxisbox setup-code`). Only reachable from the box itself
 * — the CLI writes the file directly, or asks the running agent over its control socket.
 */
export async function resetWebPassword(dir: string, now: number): Promise<void> {
  await writeUsersFile(path.join(dir, 'users.json'), { version: 1, users: {} });
  await new AuditLog(dir, () => 1024 * 1024).append({ event: 'password.reset', source: 'cli', user: 'admin' }, now);
}
