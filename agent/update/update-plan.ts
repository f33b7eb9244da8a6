import type { HealthLevel } from '../core/module.js';
import { compareVersions, isReleaseVersion } from './semver.js';
import type { ReleaseManifest } from './release-manifest.js';
import type { UpdateState } from './update-state.js';

/** Pure decisions of the updater; the runner and the module only carry them out. */

export type ApplyPlan = { kind: 'install' } | { kind: 'noop'; reason: string } | { kind: 'refuse'; reason: string };

export interface ApplyInput {
  manifest: ReleaseManifest;
  /** The version the caller asked for: must match the signed manifest. */
  requested: string;
  running: string;
  /** The version `current` points to: it must be the running one (else switching would not change what runs). */
  currentTarget: string | undefined;
  allowDowngrade: boolean;
  state: UpdateState | undefined;
}

export function planApply({ manifest, requested, running, currentTarget, allowDowngrade, state }: ApplyInput): ApplyPlan {
  if (requested !== manifest.version) return { kind: 'refuse', reason: `requested version ${requested} but the signed release is ${manifest.version}` };
  if (!isReleaseVersion(running)) return { kind: 'refuse', reason: `the running agent (${running}) is not a release build` };
  if (state?.stage === 'switched') return { kind: 'refuse', reason: `an update to ${state.to} is in progress` };
  const order = compareVersions(manifest.version, running);
  if (order === 0) return { kind: 'noop', reason: `version ${running} is already running` };
  if (currentTarget !== running) return { kind: 'refuse', reason: `this agent does not run from the release tree (current is ${currentTarget ?? 'missing'}, running ${running})` };
  if (order < 0 && !allowDowngrade) return { kind: 'refuse', reason: `${manifest.version} is older than the running ${running}; downgrades need update.allowDowngrade and allowDowngrade in the command` };
  if (manifest.minVersion !== undefined && compareVersions(running, manifest.minVersion) < 0) {
    return { kind: 'refuse', reason: `${manifest.version} needs ${manifest.minVersion} or newer installed first (running ${running})` };
  }
  return { kind: 'install' };
}

export type StartupPlan =
  | { kind: 'idle' }
  /** This process is the new release: watch health until the deadline. */
  | { kind: 'await-commit' }
  /** `current` already points to the new release but this (old) process has not restarted yet. */
  | { kind: 'pending-restart' }
  /** The switch never happened (interrupted): record the failure. */
  | { kind: 'mark-failed'; reason: string }
  /** An outcome is recorded but not yet in the outbox. */
  | { kind: 'report'; outcome: 'committed' | 'failed' };

export function planStartup(state: UpdateState | undefined, running: string, currentTarget: string | undefined): StartupPlan {
  if (!state) return { kind: 'idle' };
  if (state.stage === 'switched') {
    if (running === state.to) return { kind: 'await-commit' };
    if (currentTarget === state.to) return { kind: 'pending-restart' };
    return { kind: 'mark-failed', reason: 'the update was interrupted before the switch to the new release' };
  }
  if (state.reported) return { kind: 'idle' };
  return { kind: 'report', outcome: state.stage === 'committed' ? 'committed' : 'failed' };
}

const RANK: Record<HealthLevel, number> = { ok: 0, degraded: 1, fault: 2 };

export interface CommitInput {
  health: HealthLevel;
  /** No module is still starting. */
  settled: boolean;
  healthBefore: HealthLevel;
  now: number;
  deadline: number;
}

/**
 * Commit once every module has settled and overall health is no worse than before the update
 * (green stays green; a yellow box — e.g. no card reader plugged in — may stay yellow); roll back
 * when that has not happened by the deadline.
 */
export function commitDecision({ health, settled, healthBefore, now, deadline }: CommitInput): 'commit' | 'wait' | 'rollback' {
  if (settled && RANK[health] <= RANK[healthBefore]) return 'commit';
  return now >= deadline ? 'rollback' : 'wait';
}

/** Release directories to delete after a commit: all but the `keep` newest, never the current or previous one. */
export function releasesToPrune(releases: readonly string[], keep: number, current: string, previous: string | undefined): string[] {
  const sorted = releases.filter(isReleaseVersion).sort((a, b) => compareVersions(b, a));
  const kept = new Set([current, ...(previous ? [previous] : [])]);
  for (const v of sorted) {
    if (kept.size >= Math.max(keep, 1)) break;
    kept.add(v);
  }
  return sorted.filter((v) => !kept.has(v));
}
