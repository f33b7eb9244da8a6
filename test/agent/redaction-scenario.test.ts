import t from 'tap';
import path from 'node:path';
import { patientData } from '../../agent/core/patient-data.js';
import { startTestAgent } from '../helpers/test-agent.js';
import { fixturePatientValues, leakedValues } from '../helpers/patient-values.js';

/**
 * A whole-agent scenario with the shared fixtures' real patient values flowing through every path
 * that exists: events into the outbox, commands with personal arguments (valid and invalid), bus
 * listeners that fail on personal payloads, third-party errors quoting personal text, log tails.
 * The captured log output must contain none of the values. Device modules extend this scenario.
 */
t.test('no fixture patient value reaches the log', async (t) => {
  const values = fixturePatientValues();
  t.ok(values.length >= 10, `${values.length} personal values from the fixtures`);
  t.ok(values.includes('Mustermann') && values.includes('Meier'), 'GDT and eGK values both present');

  const box = await startTestAgent({}, { logLevel: 'trace' });
  t.teardown(box.stop);
  const { agent } = box;
  const { dispatcher, bus, log } = agent.deps;

  const person = Object.fromEntries(values.map((v, i) => [`f${i}`, v]));
  // Events bound for the cloud carry the data (wrapped) — stored, never logged.
  const event = await agent.outbox.append('card.read', { terminalId: 'empfang-1', person: patientData(person) });
  const [stored] = await agent.outbox.pending(event.seq - 1, 1);
  t.same((stored?.data as { person: unknown }).person, person, 'the outbox keeps the real data for the cloud');

  // A module that logs a payload it should not (unwrapped, with personal keys).
  log.child({ module: 'gdt' }).debug({ patient: { surname: values[0], firstName: values[1] } }, 'parsed order');
  log.child({ module: 'cards' }).info({ person: patientData(person) }, 'card read');

  // A listener that fails on a personal payload with a third-party error quoting it.
  bus.on('test', 'outbox.appended', () => {
    JSON.parse(values.join(' '));
  });
  await agent.outbox.append('test.event', { note: patientData(values[2]) });

  // Commands with personal arguments: unknown command, schema violations, config values, logs.tail.
  for (const v of values.slice(0, 5)) {
    await dispatcher.dispatch('card.lookup', { name: v }, { source: 'cloud' });
    await dispatcher.dispatch('config.get', { path: v }, { source: 'cloud' });
    await dispatcher.dispatch('config.set', { path: 'log.level', value: v }, { source: 'cloud' });
    await dispatcher.dispatch('logs.tail', { lines: v }, { source: 'cloud' });
    await dispatcher.dispatch('config.validate', { config: { box: { name: v, extra: v } } }, { source: 'cloud' });
  }
  const tail = await dispatcher.dispatch('logs.tail', { lines: 2000 }, { source: 'cloud' });
  t.equal(tail.status, 'ok');
  await new Promise((r) => setImmediate(r));
  await agent.stop();

  const logText = box.logText();
  t.ok(logText.length > 1000, 'the scenario produced log output');
  t.same(leakedValues(logText, values), [], 'no patient value in the log');
  t.same(leakedValues(JSON.stringify(tail), values), [], 'no patient value in logs.tail');
  t.match(logText, /listener of outbox.appended in test failed: SyntaxError/, 'the failure itself is visible');
  t.ok(path.isAbsolute(agent.deps.paths.dataDir));
});
