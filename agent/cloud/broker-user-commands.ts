import { Type } from '@sinclair/typebox';
import type { CommandDispatcher } from '../core/commands.js';
import { invalidInput, notFound } from '../core/errors.js';
import type { CommandTable } from '../core/module.js';
import type { Config } from '../config/schema.js';
import { hashBrokerPassword } from './broker-password.js';

/**
 * `broker.users.*`: the users of the local MQTT broker for the web UI (the CLI's
 * `praxisbox broker-user` edits the same configuration list). Replies never carry the password
 * hashes; saving goes through `config.set`, so the whole configuration is validated as usual.
 */
export interface BrokerUserCommandDeps {
  config: () => Config;
  dispatcher: CommandDispatcher;
}

const UserName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
const Rights = Type.Array(Type.Union([Type.Literal('events'), Type.Literal('commands')]), { uniqueItems: true, maxItems: 2 });

export function brokerUserCommands(deps: BrokerUserCommandDeps): CommandTable {
  const users = () => deps.config().localBroker.users;
  return {
    'broker.users.list': {
      description: 'Users of the local MQTT broker and their rights (never the password hashes)',
      handler: async () => ({ users: users().map((u) => ({ name: u.name, rights: u.rights })) }),
    },
    'broker.users.set': {
      description: 'Adds a broker user or changes one (rights; a new password of at least 10 characters; a new user needs one)',
      args: Type.Object(
        { name: UserName, rights: Rights, password: Type.Optional(Type.String({ minLength: 10, maxLength: 256 })) },
        { additionalProperties: false },
      ),
      handler: async (args, ctx) => {
        const a = args as { name: string; rights: Array<'events' | 'commands'>; password?: string };
        const existing = users().find((u) => u.name === a.name);
        if (!existing && a.password === undefined) throw invalidInput('a new broker user needs a password', { problems: [{ path: '/password', message: 'required for a new user' }] });
        const passwordHash = a.password !== undefined ? await hashBrokerPassword(a.password) : (existing?.passwordHash ?? '');
        const next = [...users().filter((u) => u.name !== a.name), { name: a.name, passwordHash, rights: a.rights }];
        await deps.dispatcher.run('config.set', { path: 'localBroker.users', value: next }, ctx);
        return { name: a.name, rights: a.rights, created: !existing };
      },
    },
    'broker.users.remove': {
      description: 'Removes a broker user',
      args: Type.Object({ name: UserName }, { additionalProperties: false }),
      handler: async (args, ctx) => {
        const { name } = args as { name: string };
        if (!users().some((u) => u.name === name)) throw notFound('no broker user with this name');
        await deps.dispatcher.run('config.set', { path: 'localBroker.users', value: users().filter((u) => u.name !== name) }, ctx);
        return { name, removed: true };
      },
    },
  };
}
