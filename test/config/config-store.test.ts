import t, { type Test } from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigStore, withValueAt, valueAt } from '../../agent/config/config-store.js';
import { checkConfig, defaultConfig } from '../../agent/config/validate.js';
import { migrateConfig, type Migration } from '../../agent/config/migrations.js';
import { systemClock } from '../../agent/core/clock.js';
import { ErrorCode } from '../../agent/core/errors.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';

async function storeIn(t: Test) {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'config.json');
  const log = captureLog();
  return { dir, file, log, store: new ConfigStore({ file, log: log.log, clock: systemClock }) };
}

t.test('no file: defaults, needs setup, nothing written', async (t) => {
  const { store, dir } = await storeIn(t);
  const report = await store.load();
  t.same(report, { source: 'defaults', needsSetup: true, migrated: [] });
  t.same(store.get(), defaultConfig());
  t.same(await fs.readdir(dir), []);
});

t.test('set validates the whole document, writes durably with mode 0600, and ends needs-setup', async (t) => {
  const { store, file } = await storeIn(t);
  await store.load();
  const change = await store.set('outbox.maxBytes', 4 * 1024 * 1024);
  t.same(change.sections, ['outbox']);
  t.equal((await fs.stat(file)).mode & 0o777, 0o600);
  t.equal(JSON.parse(await fs.readFile(file, 'utf8')).outbox.maxBytes, 4 * 1024 * 1024);
  t.equal(store.report().needsSetup, false);
  const again = new ConfigStore({ file, log: captureLog().log, clock: systemClock });
  t.equal((await again.load()).source, 'file');
  t.equal(again.get().outbox.maxBytes, 4 * 1024 * 1024);
  t.same((await fs.readdir(path.dirname(file))).sort(), ['config.json'], 'no temp files left');
});

t.test('invalid values are refused with path: message, and nothing changes', async (t) => {
  const { store, file } = await storeIn(t);
  await store.load();
  await store.set('box.name', 'Praxis Dr. Beispiel');
  const before = await fs.readFile(file, 'utf8');
  await t.rejects(store.set('log.level', 'loud'), { code: ErrorCode.InvalidConfig, message: /\/log\/level: must be one of "fatal", "error"/ });
  await t.rejects(store.set('outbox.maxBytes', 12), { code: ErrorCode.InvalidConfig, message: /\/outbox\/maxBytes: Expected integer to be greater or equal to 1048576/ });
  await t.rejects(store.set('outbox.colour', 'blue'), { message: /\/outbox\/colour: unknown setting/ });
  t.equal(await fs.readFile(file, 'utf8'), before);
  t.equal(store.get().log.level, 'info');
});

for (const [label, content] of [
  ['not JSON', '{"box": {"name": "x"'],
  ['JSON false', 'false'],
  ['an array', '[1,2]'],
  ['invalid values', JSON.stringify({ version: 1, outbox: { maxBytes: 'lots' } })],
  ['a newer version', JSON.stringify({ version: 99 })],
] as const) {
  t.test(`a config file with ${label} is kept aside, reported, and the box runs on defaults`, async (t) => {
    const { store, file, dir, log } = await storeIn(t);
    await fs.writeFile(file, content);
    const report = await store.load();
    t.equal(report.source, 'defaults');
    t.equal(report.needsSetup, true);
    t.ok(report.problem, `problem: ${report.problem}`);
    t.ok(report.keptAs);
    t.equal(await fs.readFile(report.keptAs as string, 'utf8'), content, 'original bytes kept');
    t.same(await fs.readdir(dir), [path.basename(report.keptAs as string)]);
    t.match(log.text(), /CONFIGURATION REJECTED/);
    await store.set('box.name', 'Neu');
    t.equal(await fs.readFile(report.keptAs as string, 'utf8'), content, 'saving later never overwrites the kept file');
  });
}

t.test('an unreadable config path (a directory) is reported and saving is blocked', async (t) => {
  const { store, file } = await storeIn(t);
  await fs.mkdir(file);
  const report = await store.load();
  t.equal(report.needsSetup, true);
  t.match(report.problem ?? '', /EISDIR/);
  await t.rejects(store.set('box.name', 'x'), { code: ErrorCode.CommandRejected, message: /could not be moved aside/ });
});

t.test('migrations run in order, the old file is backed up, and a gap is an error', async (t) => {
  const steps: Migration[] = [
    { from: 1, describe: 'rename box.title to box.name', migrate: (d) => ({ ...d, box: { name: (d['box'] as { title: string }).title } }) },
    { from: 2, describe: 'add outbox section', migrate: (d) => ({ ...d, outbox: {} }) },
  ];
  const result = migrateConfig({ version: 1, box: { title: 'Alt' } }, steps, 3);
  t.same(result.doc, { version: 3, box: { name: 'Alt' }, outbox: {} });
  t.equal(result.applied.length, 2);
  t.throws(() => migrateConfig({ version: 1 }, [steps[1] as Migration], 3), { code: ErrorCode.Internal });
  t.throws(() => migrateConfig({ version: 'x' }), { code: ErrorCode.InvalidConfig });
  t.same(migrateConfig({ box: {} }).doc, { box: {}, version: 1 }, 'a document without version is version 1');
});

t.test('dotted paths', async (t) => {
  t.same(withValueAt({ a: { b: 1 } }, 'a.c', 2), { a: { b: 1, c: 2 } });
  t.throws(() => withValueAt({}, '__proto__.x', 1), { code: ErrorCode.InvalidInput });
  t.equal(valueAt(defaultConfig(), 'log.level'), 'info');
  t.equal(valueAt(defaultConfig(), 'log.nothing'), undefined);
  t.equal(valueAt(defaultConfig(), 'constructor'), undefined);
});

t.test('defaults are complete and valid', async (t) => {
  const check = checkConfig(defaultConfig());
  t.ok(check.ok);
});
