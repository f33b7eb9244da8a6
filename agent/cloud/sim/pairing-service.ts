import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { PAIRING_PREFIX, UNPAIR_RELATIVE_TOPIC, isPairingRequest, pairingTopics, parsePairingRequestTopic } from '../pairing-protocol.js';
import { TOPIC_PREFIX, parseBoxTopic } from '../topics.js';
import { parseJson } from '../contract.js';
import { PairingCloud, PairingOpError, type PairingSummary } from './pairing-cloud.js';
import { Dynsec } from './dynsec.js';

/**
 * The control channel of a running cloud simulator: `praxisbox cloud-sim approve|deny|pairings`
 * publish here and wait for the answer on `…/res/{id}`. It is the simulator's stand-in for the
 * cloud account's web page; whoever may publish on it may approve pairings (on a dynsec broker: the
 * cloud's own admin user only).
 */
export const CONTROL_REQUEST = 'praxisbox-cloud-sim/control/req';
export const controlReplyTopic = (id: string): string => `praxisbox-cloud-sim/control/res/${id}`;

export interface ControlRequest {
  id: string;
  op: 'approve' | 'deny' | 'list';
  code?: string;
  account?: { id?: string; name?: string };
}

export type ControlReply = { id: string; ok: true; pairing?: PairingSummary; pairings?: PairingSummary[]; unpaired?: string[] } | { id: string; ok: false; code: string; message: string };

export interface PairingServiceOptions {
  codeTtlSeconds?: number;
  intervalSeconds?: number;
  /** Manage broker accounts with Mosquitto's dynamic security; `ownUser` is the simulator's dynsec admin user. */
  dynsec?: { ownUser: string };
}

/** Runs the cloud side of pairing on the simulator's MQTT connection. */
export class PairingService {
  readonly cloud: PairingCloud;
  readonly #client: MqttClient;
  readonly #dynsec: Dynsec | undefined;

  constructor(client: MqttClient, opts: PairingServiceOptions) {
    this.#client = client;
    this.#dynsec = opts.dynsec ? new Dynsec(client) : undefined;
    const dynsec = this.#dynsec;
    this.cloud = new PairingCloud({
      ...(opts.codeTtlSeconds !== undefined ? { codeTtlSeconds: opts.codeTtlSeconds } : {}),
      ...(opts.intervalSeconds !== undefined ? { intervalSeconds: opts.intervalSeconds } : {}),
      // Without dynamic security the broker does not check box accounts: random credentials, unenforced.
      issue: async (boxId) => (dynsec ? dynsec.createBox(boxId) : { username: boxId, password: randomBytes(24).toString('base64url') }),
      revoke: async (boxId) => dynsec?.deleteBox(boxId),
    });
  }

  async start(): Promise<void> {
    if (this.#dynsec) await this.#dynsec.start();
    this.#client.on('message', (topic, payload) => void this.#onMessage(topic, payload));
    await this.#client.subscribeAsync([`${PAIRING_PREFIX}/+/req`, `${TOPIC_PREFIX}/+/${UNPAIR_RELATIVE_TOPIC}`, CONTROL_REQUEST], { qos: 1 });
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    const boxId = parsePairingRequestTopic(topic);
    if (boxId !== undefined) {
      const req = parseJson(payload);
      if (!isPairingRequest(req) || (req.op === 'start' && req.boxId !== boxId)) return;
      const reply = this.cloud.handle(req);
      if (reply) await this.#client.publishAsync(pairingTopics(boxId).reply, JSON.stringify(reply), { qos: 1 });
      return;
    }
    const box = parseBoxTopic(topic);
    if (box?.rest === UNPAIR_RELATIVE_TOPIC) {
      await this.cloud.unpair(box.boxId).catch(() => undefined);
      return;
    }
    if (topic === CONTROL_REQUEST) await this.#control(parseJson(payload) as ControlRequest);
  }

  async #control(req: ControlRequest): Promise<void> {
    if (typeof req?.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(req.id)) return;
    let reply: ControlReply;
    try {
      if (req.op === 'approve') reply = { id: req.id, ok: true, pairing: await this.cloud.approve(String(req.code ?? ''), req.account) };
      else if (req.op === 'deny') reply = { id: req.id, ok: true, pairing: this.cloud.deny(String(req.code ?? '')) };
      else reply = { id: req.id, ok: true, pairings: this.cloud.list(), unpaired: [...this.cloud.unpaired] };
    } catch (err) {
      reply = err instanceof PairingOpError ? { id: req.id, ok: false, code: err.code, message: err.message } : { id: req.id, ok: false, code: 'INTERNAL', message: err instanceof Error ? err.message : 'failed' };
    }
    await this.#client.publishAsync(controlReplyTopic(req.id), JSON.stringify(reply), { qos: 1 });
  }
}

/** Prepares a dynamic-security broker for pairing over a throw-away connection (it is disconnected on the way). */
export async function prepareDynsec(client: MqttClient, ownUser: string): Promise<void> {
  await new Dynsec(client).prepare(ownUser);
}

/** The CLI side of the control channel: one request to the running simulator, one answer. */
export async function controlRequest(client: MqttClient, req: Omit<ControlRequest, 'id'>, timeoutMs = 5_000): Promise<ControlReply> {
  const id = randomBytes(8).toString('hex');
  const topic = controlReplyTopic(id);
  const answer = new Promise<ControlReply>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no cloud simulator answered (is `praxisbox cloud-sim watch` running against this broker?)')), timeoutMs);
    client.on('message', (t, payload) => {
      if (t !== topic) return;
      clearTimeout(timer);
      resolve(JSON.parse(payload.toString('utf8')) as ControlReply);
    });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(CONTROL_REQUEST, JSON.stringify({ ...req, id }), { qos: 1 });
  return answer;
}
