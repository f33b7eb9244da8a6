import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { PAIRING_PREFIX } from '../pairing-protocol.js';
import { TOPIC_PREFIX } from '../topics.js';

const CONTROL = '$CONTROL/dynamic-security/v1';

/** Public bootstrap account every unpaired box may use: it may only publish pairing requests and read (sealed) replies. */
export const PROVISIONING_USER = 'praxisbox-provisioning';
export const PROVISIONING_PASSWORD = 'praxisbox-provisioning';

type Command = Record<string, unknown> & { command: string };

/**
 * Mosquitto's dynamic-security plugin, driven over its `$CONTROL` topic: how the cloud simulator
 * makes and removes broker accounts while the broker runs. The simulator's own user must be a
 * dynsec admin (`mosquitto_ctrl dynsec init`).
 */
export class Dynsec {
  readonly #client: MqttClient;
  readonly #waiting = new Map<string, (r: { error?: string }) => void>();

  constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (topic, payload) => {
      if (topic !== `${CONTROL}/response`) return;
      const body = JSON.parse(payload.toString('utf8')) as { responses?: Array<{ correlationData?: string; error?: string }> };
      for (const r of body.responses ?? []) {
        const done = r.correlationData === undefined ? undefined : this.#waiting.get(r.correlationData);
        if (done && r.correlationData) {
          this.#waiting.delete(r.correlationData);
          done(r.error === undefined ? {} : { error: r.error });
        }
      }
    });
  }

  async start(): Promise<void> {
    await this.#client.subscribeAsync(`${CONTROL}/response`, { qos: 1 });
  }

  /**
   * One-time set-up of the broker for pairing: the provisioning account and, for the simulator's own
   * user, a role that reads and writes everything (its dynsec admin role only covers `$CONTROL`).
   * Mosquitto disconnects a client whose roles change, so the caller connects afresh afterwards.
   */
  async prepare(ownUser: string): Promise<void> {
    await this.start();
    await this.#run({ command: 'createRole', rolename: PROVISIONING_USER, acls: [{ acltype: 'publishClientSend', topic: `${PAIRING_PREFIX}/+/req`, allow: true }, { acltype: 'subscribePattern', topic: `${PAIRING_PREFIX}/+/res`, allow: true }, { acltype: 'publishClientReceive', topic: `${PAIRING_PREFIX}/+/res`, allow: true }] }, true);
    await this.#run({ command: 'createClient', username: PROVISIONING_USER, password: PROVISIONING_PASSWORD, roles: [{ rolename: PROVISIONING_USER }] }, true);
    await this.#run({ command: 'createRole', rolename: 'praxisbox-cloud', acls: allow(['#']) }, true);
    const kicked = new Promise<void>((resolve) => {
      this.#client.once('close', () => resolve());
      setTimeout(resolve, 3_000).unref();
    });
    // The answer may or may not arrive before the kick; an error (the role is held already) means no kick.
    const answered = await Promise.race([this.#run({ command: 'addClientRole', username: ownUser, rolename: 'praxisbox-cloud' }).then(() => true, () => false), kicked.then(() => false)]);
    if (answered) await kicked;
  }

  /** A broker account for one box: its user name is the box id, bound to the box id as client id, rights on its own topics only. */
  async createBox(boxId: string): Promise<{ username: string; password: string }> {
    const password = randomBytes(24).toString('base64url');
    await this.#run({ command: 'deleteClient', username: boxId }, true);
    // Its own topics, plus sending MQTT 5 replies to the simulator's response topics (`cloud-sim/{id}/reply`).
    const acls = [...allow([`${TOPIC_PREFIX}/${boxId}/#`]), { acltype: 'publishClientSend', topic: 'cloud-sim/+/reply', allow: true }];
    await this.#run({ command: 'createRole', rolename: `box-${boxId}`, acls }, true);
    await this.#run({ command: 'createClient', username: boxId, password, clientid: boxId, roles: [{ rolename: `box-${boxId}` }] });
    return { username: boxId, password };
  }

  async deleteBox(boxId: string): Promise<void> {
    await this.#run({ command: 'deleteClient', username: boxId }, true);
    await this.#run({ command: 'deleteRole', rolename: `box-${boxId}` }, true);
  }

  #run(command: Command, tolerateError = false): Promise<void> {
    const correlationData = randomBytes(8).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(correlationData);
        reject(new Error(`dynamic security: no answer to ${command.command} (is the plugin loaded and this user a dynsec admin?)`));
      }, 5_000);
      this.#waiting.set(correlationData, (r) => {
        clearTimeout(timer);
        if (r.error !== undefined && !tolerateError) reject(new Error(`dynamic security: ${command.command} failed: ${r.error}`));
        else resolve();
      });
      this.#client.publish(CONTROL, JSON.stringify({ commands: [{ ...command, correlationData }] }), { qos: 1 });
    });
  }
}

function allow(topics: string[]): Array<Record<string, unknown>> {
  return topics.flatMap((topic) => [
    { acltype: 'publishClientSend', topic, allow: true },
    { acltype: 'publishClientReceive', topic, allow: true },
    { acltype: 'subscribePattern', topic, allow: true },
  ]);
}
