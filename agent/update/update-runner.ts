import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import type { UpdateStage } from '../core/events.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HealthLevel } from '../core/module.js';
import { parseSignedManifest, verifyManifest, type Keyring } from './release-manifest.js';
import { obtainTarball, type ReleaseSource } from './release-source.js';
import type { ReleaseStore } from './release-store.js';
import type { UpdateConfig } from './update-config.js';
import { planApply, releasesToPrune } from './update-plan.js';
import { readUpdateState, writeUpdateState, type UpdateState } from './update-state.js';

export interface UpdateRunnerDeps {
  store: ReleaseStore;
  dataDir: string;
  /** The version of the running agent. */
  running: string;
  keyring: () => Keyring;
  config: () => UpdateConfig;
  clock: Clock;
  log: Logger;
  fetch: typeof fetch;
  /** Overall health now (for the state's `healthBefore`). */
  health: () => Promise<HealthLevel>;
  progress: (stage: UpdateStage, version: string, extra?: { percent?: number; reason?: string }) => void;
  /** Called between the steps; crash tests pause here and kill the process. */
  step: (name: string) => Promise<void>;
}

export interface ApplyRequest {
  version: string;
  /** The signed manifest (`.sig.json`), as text or parsed. */
  sig: string | unknown;
  source: ReleaseSource;
  allowDowngrade?: boolean;
}

export type ApplyOutcome = { outcome: 'switched'; from: string; to: string } | { outcome: 'noop'; version: string; reason: string };

/**
 * The thin I/O shell around the planner: each step is durable before the next one starts, in the
 * order that keeps `current` bootable after a power cut anywhere (docs/updates.md, "Power loss").
 */
export class UpdateRunner {
  readonly #deps: UpdateRunnerDeps;

  constructor(deps: UpdateRunnerDeps) {
    this.#deps = deps;
  }

  async apply(req: ApplyRequest): Promise<ApplyOutcome> {
    const { store, dataDir, running, step } = this.#deps;
    const config = this.#deps.config();
    const manifest = parseSignedManifest(req.sig);
    verifyManifest(manifest, this.#deps.keyring());
    const plan = planApply({ manifest, requested: req.version, running, currentTarget: await store.currentTarget(), allowDowngrade: config.allowDowngrade && req.allowDowngrade === true, state: await readUpdateState(dataDir) });
    if (plan.kind === 'refuse') throw new PraxisboxError(ErrorCode.CommandRejected, plan.reason);
    if (plan.kind === 'noop') return { outcome: 'noop', version: running, reason: plan.reason };
    const to = manifest.version;
    await step('verified');

    const tarball = path.join(store.incomingDir, `${to}.tar.gz`);
    try {
      this.#deps.progress('downloading', to, { percent: 0 });
      await obtainTarball(req.source, manifest, store.incomingDir, tarball, {
        fetch: this.#deps.fetch,
        maxBytes: config.maxDownloadBytes,
        timeoutMs: config.downloadTimeoutSeconds * 1000,
        onProgress: (received) => this.#deps.progress('downloading', to, { percent: Math.floor((received * 100) / manifest.size) }),
      });
      this.#deps.progress('verifying', to);
      await step('downloaded');
      this.#deps.progress('unpacking', to);
      await store.unpack(tarball, to, step);
    } finally {
      await fs.rm(tarball, { force: true });
    }
    await step('unpacked');

    this.#deps.progress('switching', to);
    const state: UpdateState = {
      from: running,
      to,
      stage: 'switched',
      attempts: 0,
      deadline: null,
      healthBefore: await this.#deps.health(),
      reported: false,
      updatedAt: new Date(this.#deps.clock.now()).toISOString(),
    };
    await writeUpdateState(dataDir, state);
    await step('state-written');
    await store.switchTo(to, step);
    await step('switched');
    this.#deps.log.info({ from: running, to }, `switched to release ${to}; restarting`);
    return { outcome: 'switched', from: running, to };
  }

  /** The new release proved itself: record it, install its guard, delete old releases. */
  async commit(state: UpdateState): Promise<void> {
    const { store, dataDir, step } = this.#deps;
    await writeUpdateState(dataDir, { ...state, stage: 'committed', reported: false, updatedAt: this.#now() });
    await step('committed');
    if (!(await store.installGuard(state.to))) this.#deps.log.warn(`release ${state.to} carries no update guard; the installed guard stays`);
    await step('guard-installed');
    for (const v of releasesToPrune(await store.list(), this.#deps.config().keepReleases, state.to, state.from)) await store.remove(v);
    await store.cleanLeftovers();
  }

  /** Back to the previous release (this process keeps running until the restart). */
  async rollback(state: UpdateState, reason: string): Promise<UpdateState> {
    const { store, dataDir } = this.#deps;
    const next: UpdateState = { ...state, stage: 'rolled-back', reason, reported: false, updatedAt: this.#now() };
    await writeUpdateState(dataDir, next);
    await this.#deps.step('rollback-state-written');
    if (await store.isComplete(state.from)) await store.switchTo(state.from, this.#deps.step);
    else this.#deps.log.error({ from: state.from }, 'the previous release is incomplete; current stays on the new release');
    return next;
  }

  #now(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }
}
