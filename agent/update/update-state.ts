import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeFileDurable } from '../core/durable-file.js';
import type { HealthLevel } from '../core/module.js';

/**
 * The update state in the data dir (`update/state.json`), written durably (temp file, fsync,
 * rename, fsync dir) before every step that depends on it. The update guard reads and writes the
 * same file with the same fields (agent/update/update-guard.mjs), so change both together.
 */
export type PersistedStage = 'switched' | 'committed' | 'rolled-back' | 'failed';

export interface UpdateState {
  from: string;
  to: string;
  stage: PersistedStage;
  /** Starts of the new release counted by the guard; a second start without a commit rolls back. */
  attempts: number;
  /** ISO time by which the new release must be healthy, set when it starts its commit timer. */
  deadline: string | null;
  /** Overall health when the update was applied: the new release must be no worse. */
  healthBefore: HealthLevel;
  reason?: string;
  /** The outcome (`update.committed` / `update.failed`) is in the outbox. */
  reported: boolean;
  updatedAt: string;
}

export function stateFile(dataDir: string): string {
  return path.join(dataDir, 'update', 'state.json');
}

const STAGES: readonly string[] = ['switched', 'committed', 'rolled-back', 'failed'];

/** The state, or undefined when there is none or it is unreadable (then no update is in progress). */
export async function readUpdateState(dataDir: string): Promise<UpdateState | undefined> {
  const raw = await readIfExists(stateFile(dataDir));
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw.toString('utf8')) as UpdateState;
    if (typeof s.from !== 'string' || typeof s.to !== 'string' || !STAGES.includes(s.stage)) return undefined;
    return { ...s, attempts: Number(s.attempts) || 0, deadline: s.deadline ?? null, reported: s.reported === true };
  } catch {
    return undefined;
  }
}

export async function writeUpdateState(dataDir: string, state: UpdateState): Promise<void> {
  await ensurePrivateDir(path.dirname(stateFile(dataDir)));
  await writeFileDurable(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}
