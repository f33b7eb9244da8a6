import type { AgentModule, CommandTable, HealthReport } from './module.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import { ErrorCode, PraxisboxError } from './errors.js';
import { loadOrCreateIdentity, type BoxIdentity, type DeviceSecret } from './identity.js';

export interface IdentityModuleDeps {
  identityFile: string;
  secretFile: string;
  clock: Clock;
  log: Logger;
}

/** Loads (or on first start creates) the box id and device secret. Modules needing them read them lazily. */
export class IdentityModule implements AgentModule {
  readonly name = 'identity';
  readonly critical = true;
  readonly #deps: IdentityModuleDeps;
  #identity: BoxIdentity | undefined;
  #secret: DeviceSecret | undefined;

  constructor(deps: IdentityModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { identity, secret, created } = await loadOrCreateIdentity(this.#deps, () => this.#deps.clock.now());
    this.#identity = identity;
    this.#secret = secret;
    this.#deps.log.info({ boxId: identity.boxId, created }, created ? 'box identity created' : 'box identity loaded');
  }

  async stop(): Promise<void> {}

  /** The box identity; throws while it is not loaded so dependants fail their start and get retried. */
  identity(): BoxIdentity {
    if (!this.#identity) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'box identity is not loaded');
    return this.#identity;
  }

  secret(): DeviceSecret {
    if (!this.#secret) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'device secret is not loaded');
    return this.#secret;
  }

  status(): Record<string, unknown> {
    return this.#identity ? { boxId: this.#identity.boxId, createdAt: this.#identity.createdAt } : {};
  }

  healthcheck(): HealthReport {
    return this.#identity ? { level: 'ok' } : { level: 'fault', reason: 'box identity not loaded' };
  }

  commands(): CommandTable {
    return {};
  }
}
