import path from 'node:path';
import type { DestinationStream } from 'pino';
import { createLogger, stdoutDestination, type Logger } from './core/logger.js';
import { LogRing } from './core/log-ring.js';
import { EventBus } from './core/bus.js';
import type { AgentEvents } from './core/events.js';
import { systemClock, type Clock } from './core/clock.js';
import type { Paths } from './core/paths.js';
import { Supervisor, overallHealth } from './core/supervisor.js';
import { CommandDispatcher } from './core/commands.js';
import type { AgentModule, HealthLevel } from './core/module.js';
import { ConfigStore } from './config/config-store.js';
import { ConfigModule } from './config/config-module.js';
import { IdentityModule } from './core/identity-module.js';
import { OutboxModule } from './outbox/outbox-module.js';
import { SystemModule, type AgentStatus } from './core/system-module.js';
import { ControlServer } from './control/control-server.js';
import { acquireDataDirLock } from './core/data-dir-lock.js';
import { LocalBrokerModule } from './cloud/local-broker.js';
import { CloudLinkModule } from './cloud/cloud-link.js';
import { PairingModule } from './cloud/pairing-module.js';
import type { HealthPayload } from './cloud/contract.js';
import { GdtModule } from './gdt/gdt-module.js';
import { PrintingModule } from './printing/printing-module.js';
import { CardsModule } from './cards/cards-module.js';
import { createPcscDriver } from './cards/driver.js';
import { UpdateModule } from './update/update-module.js';
import { activeKeyring } from './update/trusted-keys.js';
import { BoardModule } from './board/board-module.js';
import { brokerUserCommands } from './cloud/broker-user-commands.js';
import { WebModule } from './web/web-module.js';

export interface AgentOptions {
  paths: Paths;
  version: string;
  clock?: Clock;
  /** Where log lines go (stdout when omitted); tests capture them here. */
  logDestination?: DestinationStream;
  /** Overrides the configured log level (PRAXISBOX_LOG_LEVEL). */
  logLevel?: string;
  retry?: { baseMs: number; maxMs: number };
  /** Environment overrides: PRAXISBOX_MQTT_PORT, PRAXISBOX_CLOUD_URL. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Ends the process so that the service manager starts it again (after an update switched `current`,
   * after a factory reset). `afterStop` runs once every module has stopped. Without one, the agent only logs.
   */
  requestRestart?: (reason: string, afterStop?: () => Promise<void>) => void;
}

/** What every module may be given. One object, so adding a dependency never reorders arguments. */
export interface AgentDeps {
  paths: Paths;
  version: string;
  clock: Clock;
  log: Logger;
  logRing: LogRing;
  bus: EventBus<AgentEvents>;
  config: ConfigStore;
  dispatcher: CommandDispatcher;
  env: Readonly<Record<string, string | undefined>>;
  requestRestart: (reason: string, afterStop?: () => Promise<void>) => void;
}

/** The agent's parts, built explicitly in start order. Nothing here starts anything. */
export function buildModules(
  deps: AgentDeps,
  collectStatus: () => Promise<AgentStatus>,
  collectHealth: () => Promise<HealthPayload>,
  extra: { overallHealth: () => Promise<HealthLevel> },
) {
  const child = (module: string): Logger => deps.log.child({ module });
  const identity = new IdentityModule({ identityFile: deps.paths.identityFile, secretFile: deps.paths.secretFile, clock: deps.clock, log: child('identity') });
  const outbox = new OutboxModule({ dir: deps.paths.outboxDir, config: () => deps.config.get(), log: child('outbox'), clock: deps.clock, bus: deps.bus });
  const mqttPort = deps.env['PRAXISBOX_MQTT_PORT'];
  const cloudUrl = deps.env['PRAXISBOX_CLOUD_URL'];
  const localBroker = new LocalBrokerModule({
    config: () => deps.config.get(),
    identity: () => identity.identity(),
    log: child('local-broker'),
    ...(mqttPort !== undefined && mqttPort !== '' ? { portOverride: Number(mqttPort) } : {}),
    cloudIsRemote: () => (cloudUrl !== undefined && cloudUrl !== '') || deps.config.get().cloud.url !== '',
    dispatcher: deps.dispatcher,
    outbox,
    bus: deps.bus,
    clock: deps.clock,
    journalDir: path.join(deps.paths.cloudDir, 'local'),
  });
  const cloud = new CloudLinkModule({
    config: () => deps.config.get(),
    identity: () => identity.identity(),
    outbox,
    dispatcher: deps.dispatcher,
    bus: deps.bus,
    clock: deps.clock,
    log: child('cloud'),
    dir: deps.paths.cloudDir,
    version: deps.version,
    embeddedEndpoint: () => localBroker.internalEndpoint(),
    ...(cloudUrl !== undefined && cloudUrl !== '' ? { urlOverride: cloudUrl } : {}),
    collectHealth,
    pairingStatus: (): unknown => pairing.summary(),
  });
  const pairing: PairingModule = new PairingModule({ identity: () => identity.identity(), link: cloud, bus: deps.bus, clock: deps.clock, log: child('pairing'), dir: deps.paths.cloudDir, version: deps.version });
  const printing = new PrintingModule({
    config: () => deps.config.get().printing,
    outbox,
    clock: deps.clock,
    log: child('printing'),
    dir: path.join(deps.paths.dataDir, 'printing'),
    spoolDir: path.join(deps.paths.spoolDir, 'print'),
    boxId: () => identity.identity().boxId,
  });
  const gdt = new GdtModule({
    config: () => deps.config.get().gdt,
    gdtRoot: deps.paths.gdtRoot,
    stateDir: `${deps.paths.dataDir}/gdt-state`,
    outbox,
    clock: deps.clock,
    log: child('gdt'),
    bus: deps.bus,
  });
  const cards = new CardsModule({
    config: () => deps.config.get().cards,
    outbox,
    clock: deps.clock,
    log: child('cards'),
    driver: createPcscDriver(),
  });
  const update = new UpdateModule({
    appDir: deps.env['PRAXISBOX_APP_DIR'] || '/opt/praxisbox',
    dataDir: deps.paths.dataDir,
    version: deps.version,
    config: () => deps.config.get().update,
    outbox,
    bus: deps.bus,
    clock: deps.clock,
    log: child('update'),
    keyring: () => activeKeyring(deps.env),
    status: collectStatus,
    requestRestart: deps.requestRestart,
  });
  // The LED shows the same overall health as `praxisbox status` and the systemd watchdog.
  const board = new BoardModule({
    config: () => deps.config.get().board,
    health: extra.overallHealth,
    bus: deps.bus,
    dispatcher: deps.dispatcher,
    clock: deps.clock,
    log: child('board'),
    paths: deps.paths,
    requestRestart: (afterStop) => deps.requestRestart('factory reset', afterStop),
  });
  const modules: AgentModule[] = [
    new ConfigModule({ store: deps.config, bus: deps.bus, log: child('config') }),
    identity,
    outbox,
    new SystemModule({ version: deps.version, clock: deps.clock, logRing: deps.logRing, collectStatus, listCommands: () => deps.dispatcher.list() }),
    new ControlServer({ socketPath: deps.paths.controlSocket, dispatcher: deps.dispatcher, log: child('control') }),
    localBroker,
    cloud,
    pairing,
    printing,
    gdt,
    cards,
    new WebModule({
      config: () => deps.config.get().web,
      env: deps.env,
      dir: path.join(deps.paths.dataDir, 'web'),
      identity: () => identity.identity(),
      secret: () => identity.secret(),
      dispatcher: deps.dispatcher,
      bus: deps.bus,
      clock: deps.clock,
      log: child('web'),
      logRing: deps.logRing,
      version: deps.version,
    }),
    update,
    board,
  ];
  return { modules, identity, outbox, localBroker, cloud, printing, pairing };
}

export class Agent {
  readonly deps: AgentDeps;
  readonly supervisor: Supervisor;
  readonly identity: IdentityModule;
  readonly outbox: OutboxModule;
  readonly localBroker: LocalBrokerModule;
  readonly cloud: CloudLinkModule;
  readonly #startedAt: number;
  readonly #modules: AgentModule[];
  #lock: { release: () => Promise<void> } | undefined;

  private constructor(deps: AgentDeps, options: AgentOptions) {
    this.deps = deps;
    this.#startedAt = deps.clock.now();
    const built = buildModules(deps, () => this.status(), () => this.healthPayload(), {
      overallHealth: async () => overallHealth(await this.supervisor.snapshot()),
    });
    this.#modules = built.modules;
    this.identity = built.identity;
    this.outbox = built.outbox;
    this.localBroker = built.localBroker;
    this.cloud = built.cloud;
    this.supervisor = new Supervisor({
      modules: built.modules,
      disabled: new Set([
        ...deps.config.get().modules.disabled,
        ...(deps.config.get().localBroker.enabled ? [] : ['local-broker']),
        // PRAXISBOX_MODULES_DISABLED=cards,gdt: run without some hardware families (development, tests).
        ...(deps.env['PRAXISBOX_MODULES_DISABLED'] ?? '').split(',').map((m) => m.trim()).filter(Boolean),
      ]),
      log: deps.log.child({ module: 'supervisor' }),
      bus: deps.bus,
      clock: deps.clock,
      ...(options.retry ? { retry: options.retry } : {}),
    });
    for (const m of built.modules) deps.dispatcher.register(m.name, m.commands());
    // Broker users are configuration: served while the broker restarts for a change (or is off).
    deps.dispatcher.register('config', brokerUserCommands({ config: () => deps.config.get(), dispatcher: deps.dispatcher }));
  }

  /** Creates the logger and loads the configuration (never fails: a bad file is kept aside). */
  static async create(options: AgentOptions): Promise<Agent> {
    const clock = options.clock ?? systemClock;
    const logRing = new LogRing(2000, options.logDestination ?? stdoutDestination());
    const log = createLogger({ level: options.logLevel ?? 'info', destination: logRing });
    const config = new ConfigStore({ file: options.paths.configFile, log: log.child({ module: 'config' }), clock });
    await config.load();
    if (options.logLevel === undefined) log.level = config.get().log.level;
    logRing.resize(config.get().log.ringLines);
    const bus = new EventBus<AgentEvents>(log.child({ module: 'bus' }));
    const dispatcher = new CommandDispatcher({
      log: log.child({ module: 'commands' }),
      // Called only when a command arrives, after `agent` below is assigned.
      unavailableReason: (owner) => agent.unavailableReason(owner),
    });
    const requestRestart = options.requestRestart ?? ((reason: string) => log.warn({ reason }, 'a restart was requested, but this agent has no service manager: restart it by hand'));
    const agent: Agent = new Agent({ paths: options.paths, version: options.version, clock, log, logRing, bus, config, dispatcher, env: options.env ?? {}, requestRestart }, options);
    return agent;
  }

  unavailableReason(owner: string): string | undefined {
    const state = this.supervisor.state(owner);
    if (state === 'running' || state === undefined) return undefined;
    return this.supervisor.reason(owner) ?? `module is ${state}`;
  }

  /** Starts every module. Refuses (throws) when another agent already runs on the same data directory. */
  async start(): Promise<void> {
    const { bus, log, config } = this.deps;
    this.#lock = await acquireDataDirLock(this.deps.paths.dataDir);
    bus.on('agent', 'config.changed', async ({ sections }) => {
      if (sections.includes('log') && process.env['PRAXISBOX_LOG_LEVEL'] === undefined) {
        log.level = config.get().log.level;
        this.deps.logRing.resize(config.get().log.ringLines);
      }
      for (const m of this.#modules) {
        if (m.configSections?.some((s) => sections.includes(s))) await this.supervisor.restart(m.name);
      }
    });
    const t0 = this.deps.clock.now();
    await this.supervisor.startAll();
    const snapshot = await this.supervisor.snapshot();
    log.info(
      { ms: this.deps.clock.now() - t0, modules: snapshot.map((m) => `${m.name}:${m.state}`), health: overallHealth(snapshot) },
      'all modules started',
    );
  }

  async stop(timeoutMs = 10_000): Promise<{ timedOut: string[] }> {
    const result = await this.supervisor.stopAll(timeoutMs);
    this.deps.bus.offOwner('agent');
    await this.#lock?.release();
    this.#lock = undefined;
    this.deps.log.info({ timedOut: result.timedOut }, 'agent stopped');
    return result;
  }

  /** The retained `health` message of the MQTT contract. */
  async healthPayload(): Promise<HealthPayload> {
    const s = await this.status();
    let outbox: HealthPayload['outbox'] = { depth: 0, bytes: 0 };
    try {
      const stats = this.outbox.stats();
      const age = stats.oldestTs ? Math.max(0, Math.round((this.deps.clock.now() - Date.parse(stats.oldestTs)) / 1000)) : undefined;
      outbox = { depth: stats.depth, bytes: stats.bytes, ...(age !== undefined ? { oldestAgeSeconds: age } : {}) };
    } catch {
      // outbox closed: reported through its module state
    }
    return {
      health: s.health,
      modules: s.modules.map((m) => ({ name: m.name, state: m.state, health: m.health.level, ...(m.health.reason ? { reason: m.health.reason } : {}) })),
      outbox,
      uptimeSeconds: s.uptimeSeconds,
      memory: s.memory,
      version: s.version,
      needsSetup: s.needsSetup,
      ts: new Date(this.deps.clock.now()).toISOString(),
    };
  }

  async status(): Promise<AgentStatus> {
    const modules = await this.supervisor.snapshot();
    const mem = process.memoryUsage();
    let boxId: string | undefined;
    try {
      boxId = this.identity.identity().boxId;
    } catch {
      boxId = undefined;
    }
    return {
      ...(boxId ? { boxId } : {}),
      version: this.deps.version,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeSeconds: Math.round((this.deps.clock.now() - this.#startedAt) / 1000),
      health: overallHealth(modules),
      needsSetup: this.deps.config.report().needsSetup,
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      modules,
    };
  }
}
