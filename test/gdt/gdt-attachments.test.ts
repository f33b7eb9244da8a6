import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readAttachment, realRoots } from '../../agent/gdt/attachment-reader.js';
import { mapAttachmentPath } from '../../agent/gdt/path-mapping.js';
import { tempDir } from '../helpers/fixtures.js';

/**
 * 6305 is written by whoever can write into the device folder: every way out of the configured
 * folders must be refused — by name (path-mapping) and by what the name really leads to (here).
 */
t.test('attachments are read only inside the device folders', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const result = path.join(dir, 'ekg1');
  const pdfs = path.join(dir, 'pdf');
  const outside = path.join(dir, 'secret');
  for (const d of [result, pdfs, outside, path.join(result, 'sub')]) await fs.mkdir(d, { recursive: true });
  await fs.writeFile(path.join(outside, 'shadow'), 'root:x:0:0');
  await fs.writeFile(path.join(result, 'ok.pdf'), '%PDF-ok');
  await fs.writeFile(path.join(pdfs, 'mapped.pdf'), '%PDF-mapped');
  await fs.symlink(path.join(outside, 'shadow'), path.join(result, 'link-out.pdf'));
  await fs.symlink(outside, path.join(result, 'dir-out'));
  await fs.symlink(path.join(pdfs, 'mapped.pdf'), path.join(result, 'link-in.pdf'));
  await fs.symlink('/dev/zero', path.join(result, 'zero.pdf'));
  await fs.symlink(path.join(result, 'loop-b'), path.join(result, 'loop-a'));
  await fs.symlink(path.join(result, 'loop-a'), path.join(result, 'loop-b'));
  execFileSync('mkfifo', [path.join(result, 'fifo.pdf')]);
  await fs.writeFile(path.join(result, 'big.pdf'), Buffer.alloc(5000));
  const layout = { resultDir: result, orderDir: result, mappings: [{ devicePrefix: 'C:\\GDT\\PDF\\', localDir: pdfs }, { devicePrefix: 'C:\\GDT\\', localDir: result }] };
  const roots = await realRoots([result, pdfs, path.join(dir, 'missing')]);
  t.same(roots, [await fs.realpath(result), await fs.realpath(pdfs)], 'missing roots are left out');

  const read = async (p: string, max = 4096): Promise<string> => {
    const m = mapAttachmentPath(p, layout);
    if (!m.ok) return `name:${m.reason}`;
    const r = await readAttachment(m.localPath, roots, max);
    return r.ok ? `ok:${r.content.toString('latin1')}` : r.code;
  };
  t.equal(await read('C:\\GDT\\ok.pdf'), 'ok:%PDF-ok');
  t.equal(await read('C:\\GDT\\PDF\\mapped.pdf'), 'ok:%PDF-mapped');
  t.equal(await read('C:\\GDT\\link-in.pdf'), 'ok:%PDF-mapped', 'a symlink that stays inside is fine');
  t.equal(await read('C:\\GDT\\link-out.pdf'), 'attachment-refused', 'symlink escape');
  t.equal(await read('C:\\GDT\\dir-out\\shadow'), 'attachment-refused', 'escape through a symlinked folder');
  t.equal(await read('C:\\GDT\\..\\secret\\shadow'), 'name:traversal');
  t.equal(await read('C:\\GDT\\sub\\..\\..\\secret\\shadow'), 'name:traversal');
  t.equal(await read(path.join(outside, 'shadow')), 'name:outside');
  t.equal(await read('C:\\GDT\\zero.pdf'), 'attachment-refused', 'a device node via symlink');
  t.equal(await read('C:\\GDT\\loop-a'), 'attachment-refused', 'symlink loop');
  t.equal(await read('C:\\GDT\\fifo.pdf'), 'attachment-refused', 'a FIFO is refused without blocking');
  t.equal(await read('C:\\GDT\\nope.pdf'), 'attachment-missing');
  t.equal(await read('C:\\GDT\\ok.pdf\\x'), 'attachment-missing', 'a file used as a folder');
  const big = await readAttachment(path.join(result, 'big.pdf'), roots, 4096);
  t.match(big, { ok: false, code: 'attachment-too-large', size: 5000, message: 'the attachment is 5000 bytes; the limit is 4096' });
  const ok = await readAttachment(path.join(result, 'ok.pdf'), roots, 4096);
  t.match(ok, { ok: true, size: 7, sha256: createHash('sha256').update('%PDF-ok').digest('hex') });
  if (ok.ok) t.equal(ok.realPath, path.join(await fs.realpath(result), 'ok.pdf'));
});
