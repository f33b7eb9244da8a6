import t from 'tap';
import { deviceLayout, gdtConfigProblems, isOrderFileName, isResultCandidate, shortId } from '../../agent/gdt/device-layout.js';
import { gdtConfig } from '../../agent/gdt/gdt-config.js';
import { checkConfig } from '../../agent/config/validate.js';

const ROOT = '/srv/gdt';

t.test('defaults: an empty section is valid and has no devices', async (t) => {
  const c = gdtConfig({});
  t.same(c.devices, []);
  t.equal(c.watchMode, 'auto');
  t.equal(c.stableMs, 200);
  t.equal(c.archiveRetentionDays, 7);
  t.equal(c.maxAttachmentBytes, 20 * 1024 * 1024);
  const device = gdtConfig({ devices: [{ id: 'ekg1' }] }).devices[0];
  t.match(device, { id: 'ekg1', ownGdtId: 'PRAXBOX', deviceGdtId: 'DEVICE', charset: 'iso-8859-1', gdtVersion: '02.10', fileNaming: 'fixed', testCodes: [], pathMappings: [] });
});

t.test('the schema refuses long GDT ids, bad device ids and unknown settings, naming the path', async (t) => {
  const check = checkConfig({ gdt: { devices: [{ id: 'EKG 1', ownGdtId: 'PRAXIS_EDV_1', deviceGdtId: '' }], watch: 'x' } });
  t.equal(check.ok, false);
  const paths = check.ok ? [] : check.problems.map((p) => p.path);
  t.ok(paths.includes('/gdt/devices/0/id'), 'device id pattern');
  t.ok(paths.includes('/gdt/devices/0/ownGdtId'), 'own id longer than 8');
  t.ok(paths.includes('/gdt/devices/0/deviceGdtId'), 'empty device id');
  t.ok(paths.includes('/gdt/watch'), 'unknown key');
  t.throws(() => gdtConfig({ devices: [{}] }), { code: 'InvalidConfig' }, 'a device needs an id');
  t.equal(checkConfig({ gdt: { devices: [{ id: 'ekg1', fileNaming: 'random' }] } }).ok, false);
});

t.test('layout: folders resolve against the GDT root; inside the root they are the box\'s to create', async (t) => {
  const [a, b] = gdtConfig({
    devices: [
      { id: 'ekg1' },
      { id: 'lufu', orderDir: '/mnt/lufu/in', resultDir: '/mnt/lufu/out', deviceGdtId: 'LUFU_01', ownGdtId: 'PRAX_EDV', pathMappings: [{ devicePrefix: 'C:\\GDT\\', localDir: 'lufu-pdf' }] },
    ],
  }).devices;
  const la = deviceLayout(a!, ROOT);
  t.same(la, {
    id: 'ekg1',
    orderDir: '/srv/gdt/ekg1',
    resultDir: '/srv/gdt/ekg1',
    archiveDir: '/srv/gdt/ekg1/archive',
    quarantineDir: '/srv/gdt/ekg1/quarantine',
    orderFileBase: 'DEVIPRAX',
    mappings: [],
    orderDirManaged: true,
    resultDirManaged: true,
  });
  const lb = deviceLayout(b!, ROOT);
  t.equal(lb.orderFileBase, 'LUFUPRAX');
  t.equal(lb.orderDirManaged, false, 'a share outside the root must exist');
  t.equal(lb.archiveDir, '/mnt/lufu/out/archive');
  t.same(lb.mappings, [{ devicePrefix: 'C:\\GDT\\', localDir: '/srv/gdt/lufu-pdf' }]);
  t.equal(deviceLayout({ ...a!, orderDir: '../../etc' }, ROOT).orderDirManaged, false, 'relative paths that climb out are not managed');
});

t.test('short ids and file names', async (t) => {
  t.equal(shortId('EKG_TYP1'), 'EKGT');
  t.equal(shortId('ab'), 'AB');
  t.equal(shortId('__'), 'GDT');
  t.equal(isOrderFileName('EKGTPRAX.GDT', 'EKGTPRAX'), true);
  t.equal(isOrderFileName('ekgtprax.gdt', 'EKGTPRAX'), true, 'case-insensitive as on a Windows share');
  t.equal(isOrderFileName('EKGTPRAX.017', 'EKGTPRAX'), true);
  t.equal(isOrderFileName('PRAXEKGT.GDT', 'EKGTPRAX'), false);
  t.equal(isOrderFileName('EKGTPRAX.pdf', 'EKGTPRAX'), false);
  const same = { orderDir: '/d', resultDir: '/d', orderFileBase: 'EKGTPRAX' };
  t.equal(isResultCandidate('PRAXEKGT.GDT', same), true);
  t.equal(isResultCandidate('PRAXEKGT.001', same), true);
  t.equal(isResultCandidate('EKGTPRAX.GDT', same), false, 'the box\'s own order file in a shared folder');
  t.equal(isResultCandidate('EKGTPRAX.GDT', { ...same, orderDir: '/o' }), true, 'separate folders: any GDT name is a result');
  t.equal(isResultCandidate('.PRAXEKGT.GDT.tmp', same), false);
  t.equal(isResultCandidate('.hidden.GDT', same), false);
  t.equal(isResultCandidate('befund.pdf', same), false);
  t.equal(isResultCandidate('x.1234', same), false);
});

t.test('cross-field problems', async (t) => {
  const config = gdtConfig({
    devices: [
      { id: 'ekg1', resultDir: 'shared' },
      { id: 'ekg1', resultDir: 'other' },
      { id: 'lufu', resultDir: 'shared', orderDir: 'x' },
      { id: 'bdm', orderDir: 'bdm/in', resultDir: 'bdm', pathMappings: [{ devicePrefix: 'C:\\GDT\\..\\', localDir: 'p' }] },
      { id: 'sono', orderDir: 'x' },
    ],
  });
  t.same(gdtConfigProblems(config, ROOT), [
    '/devices/1/id: same id as /devices/0',
    '/devices/1/orderFileBase: same order folder and file name as /devices/0',
    '/devices/2/resultDir: same result folder as /devices/0 (each file would be imported twice)',
    '/devices/3/orderDir: inside the result folder (use the same folder or a separate one)',
    '/devices/3/pathMappings/0/devicePrefix: must not contain ".."',
    '/devices/4/orderFileBase: same order folder and file name as /devices/2',
  ]);
  t.same(gdtConfigProblems(gdtConfig({ devices: [{ id: 'a' }, { id: 'b' }] }), ROOT), []);
});
