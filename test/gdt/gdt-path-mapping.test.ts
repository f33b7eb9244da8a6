import t from 'tap';
import { attachmentRoots, mapAttachmentPath } from '../../agent/gdt/path-mapping.js';

const layout = {
  resultDir: '/srv/gdt/ekg1',
  orderDir: '/srv/gdt/ekg1',
  mappings: [
    { devicePrefix: 'C:\\GDT\\', localDir: '/srv/gdt/ekg1' },
    { devicePrefix: 'C:\\GDT\\PDF', localDir: '/srv/gdt/ekg1-pdf' },
    { devicePrefix: '\\\\praxis-srv\\befunde\\', localDir: '/mnt/befunde' },
  ],
};

t.test('prefixes map to local folders, longest first, case-insensitive, either slash', async (t) => {
  t.same(mapAttachmentPath('C:\\GDT\\befund.pdf', layout), { ok: true, localPath: '/srv/gdt/ekg1/befund.pdf' });
  t.same(mapAttachmentPath('c:\\gdt\\Sub\\Befund 1.PDF', layout), { ok: true, localPath: '/srv/gdt/ekg1/Sub/Befund 1.PDF' });
  t.same(mapAttachmentPath('C:/GDT/befund.pdf', layout), { ok: true, localPath: '/srv/gdt/ekg1/befund.pdf' });
  t.same(mapAttachmentPath('C:\\GDT\\PDF\\123.pdf', layout), { ok: true, localPath: '/srv/gdt/ekg1-pdf/123.pdf' }, 'longer prefix wins');
  t.same(mapAttachmentPath('\\\\PRAXIS-SRV\\Befunde\\2024\\x.pdf', layout), { ok: true, localPath: '/mnt/befunde/2024/x.pdf' });
  t.same(mapAttachmentPath('  C:\\GDT\\.\\befund.pdf  ', layout), { ok: true, localPath: '/srv/gdt/ekg1/befund.pdf' }, 'blanks and . segments');
  t.same(mapAttachmentPath('befund.pdf', layout), { ok: true, localPath: '/srv/gdt/ekg1/befund.pdf' }, 'a bare name is beside the result');
  t.same(mapAttachmentPath('/srv/gdt/ekg1/x.pdf', layout), { ok: true, localPath: '/srv/gdt/ekg1/x.pdf' }, 'a local absolute path inside the folders');
});

t.test('refusals: traversal, unmapped, outside, drives and streams past the prefix', async (t) => {
  const refused = (p: string) => {
    const m = mapAttachmentPath(p, layout);
    return m.ok ? `ok:${m.localPath}` : m.reason;
  };
  t.equal(refused('C:\\GDT\\..\\Windows\\win.ini'), 'traversal');
  t.equal(refused('C:\\GDT\\sub\\..\\..\\x.pdf'), 'traversal');
  t.equal(refused('C:/GDT/../../etc/shadow'), 'traversal');
  t.equal(refused('C:\\GDT\\.. \\x.pdf'), 'traversal', 'Windows trims trailing blanks and dots: ".. " is ".."');
  t.equal(refused('..\\..\\etc\\passwd'), 'traversal');
  t.equal(refused('../x.pdf'), 'traversal');
  t.equal(refused('C:\\GDTX\\befund.pdf'), 'unmapped', 'a prefix matches whole segments only');
  t.equal(refused('D:\\befund.pdf'), 'unmapped');
  t.equal(refused('\\\\other\\share\\x.pdf'), 'unmapped');
  t.equal(refused('/etc/shadow'), 'outside');
  t.equal(refused('/srv/gdt/ekg1/../ekg2/x.pdf'), 'traversal');
  t.equal(refused('C:\\GDT\\x.pdf:secret'), 'invalid-name', 'NTFS stream');
  t.equal(refused('C:\\GDT\\D:\\x.pdf'), 'invalid-name');
  t.equal(refused('C:\\GDT\\x\u0001.pdf'), 'invalid-name');
  t.equal(refused('C:\\GDT\\x\0.pdf'), 'invalid-name');
  t.equal(refused(''), 'empty');
  t.equal(refused('   '), 'empty');
  t.equal(refused('C:\\GDT\\'), 'empty', 'the prefix alone names no file');
  t.equal(refused('C:\\GDT'), 'unmapped');
});

t.test('roots are the result, order and mapping folders, once each', async (t) => {
  t.same(attachmentRoots(layout), ['/srv/gdt/ekg1', '/srv/gdt/ekg1-pdf', '/mnt/befunde']);
});
