import net from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/schema.js';
import type { BoxIdentity } from '../core/identity.js';
import { boxTopics } from './topics.js';
import { GuardedConnection } from './guarded-connection.js';
import { anonymousAllowed, mayPublish, maySubscribe, type BrokerGrant, type BrokerRight } from './broker-acl.js';
import { verifyBrokerPassword } from './broker-password.js';
import { LocalBridge } from './local-bridge.js';
import type { CommandDispatcher } from '../core/commands.js';
import type { Outbox } from '../outbox/outbox-event.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import type { Clock } from '../core/clock.js';

export interface LocalBrokerDeps {
  config: () => Config;
  identity: () => BoxIdentity;
  log: Logger;
  /** PRAXISBOX_MQTT_PORT overrides the configured port (tests, two agents on one machine). */
  portOverride?: number;
  /** True when the cloud link goes to a remote broker: then this broker serves the contract itself. */
  cloudIsRemote: () => boolean;
  dispatcher: CommandDispatcher;
  outbox: Outbox;
  bus: EventBus<AgentEvents>;
  clock: Clock;
  /** Journal of commands received on this broker (remote-cloud mode). */
  journalDir: string;
}

export const INTERNAL_USER = 'praxisbox-internal';
const BAD_LOGIN = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, code: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/**
 * The embedded MQTT 3.1.1 broker (aedes): practice-LAN software subscribes to events and sends
 * commands here, and with no cloud configured the cloud link itself connects here (the embedded
 * default). Users and rights come from the configuration (scrypt hashes); anonymous access only
 * from loopback and only while no users exist. Connection count and packet size are capped.
 */
export class LocalBrokerModule implements AgentModule {
  readonly name = 'local-broker';
  readonly configSections = ['localBroker', 'cloud'];
  readonly #deps: LocalBrokerDeps;
  readonly #internalPassword = randomBytes(24);
  readonly #grants = new WeakMap<Client, BrokerGrant>();
  #broker: Aedes | undefined;
  #server: net.Server | undefined;
  #port = 0;
  #rejected = { auth: 0, acl: 0, oversize: 0, connections: 0 };
  #bridge: LocalBridge | undefined;

  constructor(deps: LocalBrokerDeps) {
    this.#deps = deps;
  }

  /** Where the box's own cloud link reaches this broker, with credentials that grant everything. */
  internalEndpoint(): { url: string; username: string; password: string } | undefined {
    if (!this.#server?.listening) return undefined;
    const host = this.#deps.config().localBroker.host;
    const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return { url: `mqtt://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${this.#port}`, username: INTERNAL_USER, password: this.#internalPassword.toString('base64url') };
  }

  async start(): Promise<void> {
    const cfg = this.#deps.config().localBroker;
    if (!cfg.enabled) throw new Error('local broker disabled in the configuration');
    const root = boxTopics(this.#deps.identity().boxId).root;
    const broker = await Aedes.createBroker({
      id: `praxisbox-${this.#deps.identity().boxId}`,
      connectTimeout: 10_000,
      maxClientsIdLength: 128,
      authenticate: (client, username, password, done) => {
        void this.#authenticate(client, username, password).then(
          (grant) => {
            this.#grants.set(client, grant);
            done(null, true);
          },
          (err: AuthenticateError) => {
            this.#rejected.auth += 1;
            done(err, false);
          },
        );
      },
      authorizeSubscribe: (client, sub, done) => {
        const grant = this.#grants.get(client);
        if (grant && maySubscribe(grant, sub.topic, root)) return done(null, sub);
        this.#rejected.acl += 1;
        // A refused subscription is answered with the failure code, not by closing the connection.
        done(null, null);
      },
      authorizePublish: (client, packet, done) => {
        const grant = client ? this.#grants.get(client) : undefined;
        if (client === null || (grant && mayPublish(grant, packet.topic, root))) return done(null);
        this.#rejected.acl += 1;
        done(new Error('not authorized'));
      },
    });
    broker.on('clientError', (_client, err) => this.#deps.log.debug({ err }, 'local broker client error'));
    const server = net.createServer((socket) => {
      if (broker.connectedClients >= cfg.maxConnections) {
        this.#rejected.connections += 1;
        socket.destroy();
        return;
      }
      const guarded = new GuardedConnection(socket, cfg.maxMessageBytes + 1024, (reason) => {
        this.#rejected.oversize += 1;
        this.#deps.log.warn({ reason }, 'local broker: connection closed, packet too large');
      });
      broker.handle(guarded);
    });
    server.maxConnections = cfg.maxConnections + 5;
    const port = this.#deps.portOverride ?? cfg.port;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, cfg.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#broker = broker;
    this.#server = server;
    if (this.#deps.cloudIsRemote()) {
      const bridge = new LocalBridge({
        broker,
        topics: boxTopics(this.#deps.identity().boxId),
        dispatcher: this.#deps.dispatcher,
        outbox: this.#deps.outbox,
        bus: this.#deps.bus,
        clock: this.#deps.clock,
        log: this.#deps.log,
        journalDir: this.#deps.journalDir,
        maxMessageBytes: cfg.maxMessageBytes,
      });
      await bridge.start(this.#deps.config().cloud.commandRetentionHours * 3600_000);
      this.#bridge = bridge;
    }
    this.#deps.log.info({ host: cfg.host, port: this.#port, users: cfg.users.length }, `local MQTT broker listening on ${cfg.host}:${this.#port}`);
  }

  async #authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<BrokerGrant> {
    const cfg = this.#deps.config().localBroker;
    if (username === INTERNAL_USER) {
      const given = Buffer.from(password?.toString('utf8') ?? '');
      const expected = Buffer.from(this.#internalPassword.toString('base64url'));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return { user: INTERNAL_USER, full: true, rights: new Set() };
      throw authError('bad user name or password', BAD_LOGIN);
    }
    if (username === undefined || username === '') {
      const remote = (client.conn as Partial<GuardedConnection>).remoteAddress;
      if (anonymousAllowed(cfg.users.length, remote)) return { user: 'anonymous', full: true, rights: new Set() };
      throw authError('anonymous access is not allowed here', NOT_AUTHORIZED);
    }
    const user = cfg.users.find((u) => u.name === username);
    if (user && password && (await verifyBrokerPassword(password.toString('utf8'), user.passwordHash))) {
      return { user: user.name, full: false, rights: new Set(user.rights as BrokerRight[]) };
    }
    throw authError('bad user name or password', BAD_LOGIN);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = undefined;
    this.#broker = undefined;
    await this.#bridge?.stop();
    this.#bridge = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Publishes into the local broker as the box (used to mirror events when the cloud is remote). */
  publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    const broker = this.#broker;
    if (!broker) return Promise.resolve();
    return new Promise((resolve, reject) => {
      broker.publish({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  status(): Record<string, unknown> {
    return {
      listening: this.#server?.listening ?? false,
      host: this.#deps.config().localBroker.host,
      port: this.#port,
      clients: this.#broker?.connectedClients ?? 0,
      users: this.#deps.config().localBroker.users.length,
      rejected: { ...this.#rejected },
      servesContract: this.#bridge !== undefined,
      ...(this.#bridge ? { localCommands: this.#bridge.stats() } : {}),
    };
  }

  healthcheck(): HealthReport {
    return this.#server?.listening ? { level: 'ok' } : { level: 'degraded', reason: 'local MQTT broker not listening' };
  }

  commands(): CommandTable {
    return {};
  }
}
