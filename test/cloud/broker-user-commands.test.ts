import t from 'tap';
import { startTestAgent } from '../helpers/test-agent.js';
import { verifyBrokerPassword } from '../../agent/cloud/broker-password.js';

t.test('broker.users.* keep hashes out of replies and save through the validated configuration', async (t) => {
  const box = await startTestAgent();
  t.teardown(box.stop);
  const run = (name: string, args: unknown = {}) => box.agent.deps.dispatcher.run(name, args, { source: 'web' });
  const users = () => box.agent.deps.config.get().localBroker.users;

  t.same(await run('broker.users.list'), { users: [] });
  await t.rejects(run('broker.users.set', { name: 'pvs', rights: ['events'] }), { code: 'InvalidInput', details: { problems: [{ path: '/password' }] } }, 'a new user needs a password');
  await t.rejects(run('broker.users.set', { name: 'pvs', rights: ['events'], password: 'kurz' }), { code: 'InvalidInput' }, 'short password refused');
  await t.rejects(run('broker.users.set', { name: 'p v s', rights: ['events'], password: 'lang-genug-123' }), { code: 'InvalidInput' }, 'bad name refused');
  await t.rejects(run('broker.users.set', { name: 'pvs', rights: ['admin'], password: 'lang-genug-123' }), { code: 'InvalidInput' }, 'unknown right refused');
  t.same(users(), [], 'nothing stored after refusals');

  t.same(await run('broker.users.set', { name: 'pvs', rights: ['events', 'commands'], password: 'lang-genug-123' }), { name: 'pvs', rights: ['events', 'commands'], created: true });
  const stored = users()[0];
  t.ok(stored && (await verifyBrokerPassword('lang-genug-123', stored.passwordHash)), 'scrypt hash stored');
  const listed = JSON.stringify(await run('broker.users.list'));
  t.notMatch(listed, /scrypt|passwordHash/, 'no hash in the list');
  t.same(JSON.parse(listed), { users: [{ name: 'pvs', rights: ['events', 'commands'] }] });

  t.same(await run('broker.users.set', { name: 'pvs', rights: ['events'] }), { name: 'pvs', rights: ['events'], created: false }, 'rights changed, password kept');
  t.equal(users()[0]?.passwordHash, stored?.passwordHash);

  await t.rejects(run('broker.users.remove', { name: 'niemand' }), { code: 'NotFound' });
  t.same(await run('broker.users.remove', { name: 'pvs' }), { name: 'pvs', removed: true });
  t.same(users(), []);
  t.notMatch(box.logText(), 'lang-genug-123', 'the password is never logged');
});
