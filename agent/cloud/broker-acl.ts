import { isLoopbackHost } from './topics.js';

export type BrokerRight = 'events' | 'commands';

/** What a connected local-broker client may do; `full` is the box itself and anonymous loopback. */
export interface BrokerGrant {
  user: string;
  full: boolean;
  rights: ReadonlySet<BrokerRight>;
}

/** Topic levels under the box root that the `events` right may read. */
const READABLE = ['evt', 'evt-chunk', 'state', 'health', 'res', 'config'];

/**
 * Pure access rules of the local broker. Subscriptions and publishes outside the box's own root are
 * refused for everyone but `full` clients; within it, `events` may read events, state, health,
 * replies and reported config, and `commands` may send commands (and read their replies).
 */
export function maySubscribe(grant: BrokerGrant, topic: string, root: string): boolean {
  if (grant.full) return true;
  if (!topic.startsWith(root)) return false;
  const rest = topic.slice(root.length);
  const first = rest.split('/')[0] ?? '';
  if (first === '#' || first === '+' || first === '') return false;
  if (first === 'res') return grant.rights.has('events') || grant.rights.has('commands');
  if (first === 'config') return grant.rights.has('events') && (rest === 'config/reported' || rest === 'config/desired');
  return grant.rights.has('events') && READABLE.includes(first);
}

export function mayPublish(grant: BrokerGrant, topic: string, root: string): boolean {
  if (grant.full) return true;
  if (!topic.startsWith(root)) return false;
  const rest = topic.slice(root.length);
  if (!grant.rights.has('commands')) return false;
  return /^cmd\/[^/#+]+$/.test(rest) || rest === 'cmd-chunk';
}

/** Anonymous clients are accepted only when no users are configured, and only from loopback. */
export function anonymousAllowed(usersConfigured: number, remoteAddress: string | undefined): boolean {
  if (usersConfigured > 0 || remoteAddress === undefined) return false;
  return isLoopbackHost(remoteAddress.replace(/^::ffff:/, ''));
}
