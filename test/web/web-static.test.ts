import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startTestAgent } from '../helpers/test-agent.js';
import { tempDir } from '../helpers/fixtures.js';
import { request } from './web-client.js';
import { webUrl } from './web-agent.js';
import { defaultUiDir } from '../../agent/web/web-module.js';

/** The built pages are served with the app shell for the pages' own routes; nothing outside the UI directory. */
t.test('static pages with fallback to index.html', async (t) => {
  const { dir: ui, cleanup } = await tempDir('praxisbox-ui-');
  t.teardown(cleanup);
  await fs.mkdir(path.join(ui, 'assets'));
  await fs.writeFile(path.join(ui, 'index.html'), '<!doctype html><title>Praxisbox</title><script type="module" src="/assets/app.js"></script>');
  await fs.writeFile(path.join(ui, 'assets', 'app.js'), 'export const x = 1;\n');
  await fs.writeFile(path.join(path.dirname(ui), 'outside.txt'), 'geheim');
  t.teardown(() => fs.rm(path.join(path.dirname(ui), 'outside.txt'), { force: true }));
  const box = await startTestAgent({ PRAXISBOX_WEB_UI_DIR: ui });
  t.teardown(box.stop);
  const base = await webUrl(box);

  const index = await request(`${base}`);
  t.equal(index.status, 200);
  t.match(index.text, /<title>Praxisbox<\/title>/);
  t.match(index.headers['content-type'], /text\/html/);
  t.equal(index.headers['cache-control'], 'no-cache');
  t.match(String(index.headers['content-security-policy']), /script-src 'self'/);
  const js = await request(`${base}assets/app.js`);
  t.equal(js.status, 200);
  t.match(js.headers['content-type'], /javascript/);
  t.equal(js.headers['x-content-type-options'], 'nosniff');
  for (const route of ['einstellungen/drucker', 'status', 'einrichtung?schritt=2']) {
    const page = await request(`${base}${route}`);
    t.equal(page.status, 200, `/${route}: app shell`);
    t.match(page.text, /<title>Praxisbox/);
  }
  t.equal((await request(`${base}assets/missing.js`)).status, 404, 'a missing asset is a 404, not the shell');
  const api = await request(`${base}api/unknown`);
  t.equal(api.status, 403, 'unknown API paths are behind the same gate (nothing to learn before setup)');
  t.match(api.json(), { status: 'error', error: { code: 'SetupRequired' } });
  for (const p of ['../outside.txt', '%2e%2e/outside.txt', 'assets/..%2f..%2foutside.txt']) {
    const res = await request(`${base}${p}`);
    t.notOk(res.text.includes('geheim'), `${p}: nothing outside the UI directory`);
  }
  t.match(defaultUiDir(), /web-ui[/\\]dist$/, 'default: web-ui/dist of this installation');
});
