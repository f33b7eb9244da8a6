/**
 * The MQTT contract's topic names (v1). Everything below `praxisbox/v1/{boxId}/`; documented in
 * docs/mqtt-api.md. Pure functions so the box, the cloud simulator and the docs agree.
 */
export const TOPIC_PREFIX = 'praxisbox/v1';

export interface BoxTopics {
  root: string;
  state: string;
  health: string;
  event: (type: string) => string;
  eventWildcard: string;
  command: (name: string) => string;
  commandWildcard: string;
  /** Chunks of a large command payload (cloud → box). */
  commandChunk: string;
  response: (id: string) => string;
  responseWildcard: string;
  /** Chunks of a large event (box → cloud). */
  eventChunk: string;
  configDesired: string;
  configReported: string;
}

export function boxTopics(boxId: string): BoxTopics {
  const root = `${TOPIC_PREFIX}/${boxId}/`;
  return {
    root,
    state: `${root}state`,
    health: `${root}health`,
    event: (type) => `${root}evt/${type}`,
    eventWildcard: `${root}evt/#`,
    command: (name) => `${root}cmd/${name}`,
    commandWildcard: `${root}cmd/+`,
    commandChunk: `${root}cmd-chunk`,
    response: (id) => `${root}res/${id}`,
    responseWildcard: `${root}res/#`,
    eventChunk: `${root}evt-chunk`,
    configDesired: `${root}config/desired`,
    configReported: `${root}config/reported`,
  };
}

/** Splits `praxisbox/v1/{boxId}/{rest}`; undefined for topics outside the contract. */
export function parseBoxTopic(topic: string): { boxId: string; rest: string } | undefined {
  const prefix = `${TOPIC_PREFIX}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const tail = topic.slice(prefix.length);
  const slash = tail.indexOf('/');
  if (slash <= 0) return undefined;
  return { boxId: tail.slice(0, slash), rest: tail.slice(slash + 1) };
}

/** Command names are dotted lower-case words (`gdt.order`), one topic level. */
export const COMMAND_NAME = /^[a-z][a-z0-9]*(\.[a-z0-9-]+)*$/;

/** Command ids are chosen by the cloud; restricted so they can be topic levels and file-safe. */
export const COMMAND_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain (unencrypted) MQTT may go to. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
