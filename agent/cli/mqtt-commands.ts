import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { CONTRACT_SCHEMAS } from '../cloud/contract.js';
import { hashBrokerPassword } from '../cloud/broker-password.js';
import { callAgent, AgentNotRunning } from '../control/control-client.js';
import { ConfigStore } from '../config/config-store.js';
import { createLogger } from '../core/logger.js';
import { systemClock } from '../core/clock.js';
import { Exit, type CliContext } from './main.js';
import { Writable } from 'node:stream';

/** `praxisbox mqtt-schemas` and `praxisbox broker-user add|remove|list`. */
export function registerMqttCommands(program: Command, ctx: CliContext): void {
  program
    .command('mqtt-schemas')
    .description('print the JSON Schemas of every MQTT contract payload (or write one file each)')
    .option('--out <dir>', 'write <name>.schema.json files into this directory')
    .action(async (opts: { out?: string }) => {
      if (!opts.out) {
        ctx.io.stdout.write(`${JSON.stringify(CONTRACT_SCHEMAS, null, 2)}\n`);
        return;
      }
      await fs.mkdir(opts.out, { recursive: true });
      for (const [name, schema] of Object.entries(CONTRACT_SCHEMAS)) {
        await fs.writeFile(path.join(opts.out, `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
      }
      ctx.io.stdout.write(`wrote ${Object.keys(CONTRACT_SCHEMAS).length} schemas to ${opts.out}\n`);
    });

  const users = program.command('broker-user').description('users of the local MQTT broker (practice-LAN software)');
  users
    .command('add')
    .argument('<name>', 'user name')
    .option('--rights <list>', 'comma-separated: events (read events, state, health), commands (send commands)', 'events')
    .description('add or replace a user; the password is read from standard input (first line)')
    .action(async (name: string, opts: { rights: string }) => {
      const rights = opts.rights.split(',').map((r) => r.trim()).filter(Boolean);
      if (rights.some((r) => r !== 'events' && r !== 'commands')) {
        ctx.io.stderr.write('praxisbox: rights are events and/or commands\n');
        ctx.exit(Exit.usage);
        return;
      }
      const password = (await readFirstLine(ctx.io.stdin)).trim();
      if (password.length < 10) {
        ctx.io.stderr.write('praxisbox: the password (first line of standard input) needs at least 10 characters\n');
        ctx.exit(Exit.failure);
        return;
      }
      const passwordHash = await hashBrokerPassword(password);
      await editUsers(ctx, (list) => [...list.filter((u) => u.name !== name), { name, passwordHash, rights }]);
      ctx.io.stdout.write(`broker user ${name} saved (rights: ${rights.join(', ')})\n`);
    });
  users
    .command('remove')
    .argument('<name>', 'user name')
    .description('remove a user')
    .action(async (name: string) => {
      await editUsers(ctx, (list) => list.filter((u) => u.name !== name));
      ctx.io.stdout.write(`broker user ${name} removed\n`);
    });
  users
    .command('list')
    .description('list the users and their rights (never the password hashes)')
    .action(async () => {
      const list = await currentUsers(ctx);
      if (list.length === 0) ctx.io.stdout.write('no users: anonymous clients are accepted from this machine (loopback) only\n');
      for (const u of list) ctx.io.stdout.write(`${u.name}  ${u.rights.join(', ')}\n`);
    });
}

interface BrokerUser {
  name: string;
  passwordHash: string;
  rights: string[];
}

async function currentUsers(ctx: CliContext): Promise<BrokerUser[]> {
  try {
    const reply = await callAgent(ctx.paths().controlSocket, 'config.get', { path: 'localBroker.users' });
    if (reply.status === 'ok') return reply.data as BrokerUser[];
  } catch (err) {
    if (!(err instanceof AgentNotRunning)) throw err;
  }
  const store = offlineStore(ctx);
  await store.load();
  return store.get().localBroker.users as BrokerUser[];
}

async function editUsers(ctx: CliContext, edit: (list: BrokerUser[]) => BrokerUser[]): Promise<void> {
  const next = edit(await currentUsers(ctx));
  try {
    const reply = await callAgent(ctx.paths().controlSocket, 'config.set', { path: 'localBroker.users', value: next });
    if (reply.status === 'error') throw new Error(reply.error.message);
    return;
  } catch (err) {
    if (!(err instanceof AgentNotRunning)) throw err;
  }
  const store = offlineStore(ctx);
  await store.load();
  await store.set('localBroker.users', next);
}

function offlineStore(ctx: CliContext): ConfigStore {
  const quiet = createLogger({ level: 'error', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  return new ConfigStore({ file: ctx.paths().configFile, log: quiet, clock: systemClock });
}

async function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split('\n')[0] ?? '';
}
