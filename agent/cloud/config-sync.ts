import type { CommandDispatcher } from '../core/commands.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../config/schema.js';
import type { CloudStateFile } from './cloud-state.js';
import { checkDesired, parseJson, type ConfigReported } from './contract.js';
import { mergeConfig } from './connection-plan.js';

export interface ConfigSyncDeps {
  state: CloudStateFile;
  dispatcher: CommandDispatcher;
  current: () => Config;
  clock: Clock;
  log: Logger;
  publishReported: (body: ConfigReported) => Promise<void>;
}

/**
 * Desired/reported configuration (device-shadow style): the cloud publishes a retained
 * `config/desired` `{version, config}` (partial); a newer version is merged into the current
 * configuration, validated and stored as a whole through `config.replace` (the same path as the CLI
 * and web UI), and answered with a retained `config/reported`. Versions not newer than the applied
 * one are ignored, so a late or re-delivered older document never undoes a newer one.
 */
export class ConfigSync {
  readonly #deps: ConfigSyncDeps;
  #last: ConfigReported | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: ConfigSyncDeps) {
    this.#deps = deps;
  }

  onDesired(payload: Buffer): Promise<void> {
    const run = (): Promise<void> => this.#apply(payload);
    this.#queue = this.#queue.then(run, run);
    return this.#queue;
  }

  async republish(): Promise<void> {
    if (this.#last) await this.#deps.publishReported(this.#last);
  }

  async #apply(payload: Buffer): Promise<void> {
    const { log, state } = this.#deps;
    const checked = checkDesired(parseJson(payload));
    if (!checked.ok) {
      // Without a version there is nothing to answer; the problems name schema paths, not values.
      log.warn({ problems: checked.problems }, 'config/desired ignored: not a valid desired-config document');
      return;
    }
    const { version, config } = checked.value;
    const applied = state.get().appliedConfigVersion;
    if (version <= applied) {
      log.debug({ version, applied }, 'config/desired ignored: not newer than the applied version');
      return;
    }
    const merged = mergeConfig(this.#deps.current(), config);
    const reply = await this.#deps.dispatcher.dispatch('config.replace', { config: merged }, { source: 'cloud' });
    const ts = new Date(this.#deps.clock.now()).toISOString();
    let report: ConfigReported;
    if (reply.status === 'ok') {
      await state.setAppliedConfigVersion(version);
      report = { version, status: 'applied', appliedVersion: version, ts };
      log.info({ version }, `desired configuration version ${version} applied`);
    } else {
      const problems = problemsOf(reply.error.message);
      report = { version, status: 'rejected', appliedVersion: applied, errors: problems, ts };
      log.warn({ version, errors: problems.length }, `desired configuration version ${version} rejected`);
    }
    this.#last = report;
    await this.#deps.publishReported(report).catch((err: unknown) => log.warn({ err }, 'config/reported could not be published now'));
  }
}

/** `invalid configuration:\n/path: message\n…` → [{path, message}]. */
function problemsOf(message: string): { path: string; message: string }[] {
  const lines = message.split('\n').slice(1).filter((l) => l.includes(': '));
  if (lines.length === 0) return [{ path: '/', message }];
  return lines.map((l) => {
    const at = l.indexOf(': ');
    return { path: l.slice(0, at), message: l.slice(at + 2) };
  });
}
