import t from 'tap';
import http from 'node:http';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { WebClient } from './web-client.js';
import { boxSetupCode, webUrl, GOOD_PASSWORD } from './web-agent.js';

/** The live log tail over Server-Sent Events: new lines only, level filter, resume, ends with the session. */
t.test('GET /api/logs/stream', async (t) => {
  const box = await startTestAgent();
  t.teardown(box.stop);
  const base = await webUrl(box);
  const client = new WebClient(base);
  t.equal((await client.post('/api/setup', { setupCode: await boxSetupCode(box.dir), password: GOOD_PASSWORD })).status, 200);
  const log = box.agent.deps.log.child({ module: 'probe' });

  const open = (query: string, headers: Record<string, string> = {}): Promise<{ res: http.IncomingMessage; text: () => string; ended: Promise<void> }> =>
    new Promise((resolve, reject) => {
      const req = http.get(`${base}api/logs/stream${query}`, { headers: { cookie: client.cookie ?? '', ...headers } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        const ended = new Promise<void>((r) => res.on('close', () => r()));
        resolve({ res, text: () => text, ended });
      });
      req.on('error', reject);
    });

  const anon = await new Promise<number>((resolve) => http.get(`${base}api/logs/stream`, (res) => (res.resume(), resolve(res.statusCode ?? 0))));
  t.equal(anon, 401, 'no session, no stream');

  log.info('before the stream opened');
  const all = await open('');
  t.equal(all.res.statusCode, 200);
  t.match(all.res.headers['content-type'], /^text\/event-stream/);
  t.equal(all.res.headers['x-frame-options'], 'DENY', 'security headers on the stream too');
  const warnOnly = await open('?level=warn');
  log.info('stream probe info');
  log.warn('stream probe warn');
  await eventually('lines streamed', () => all.text().includes('stream probe warn') && warnOnly.text().includes('stream probe warn'));
  t.match(all.text(), /stream probe info/);
  t.notMatch(all.text(), /before the stream opened/, 'only new lines');
  t.notMatch(warnOnly.text(), /stream probe info/, 'level filter');
  const ids = [...all.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  t.ok(ids.length >= 2 && ids.every((id, i) => i === 0 || id > (ids[i - 1] as number)), 'increasing ids');
  const data = all.text().split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { msg: string; module: string });
  t.match(data.find((d) => d.msg === 'stream probe warn'), { module: 'probe', level: 'warn' });

  const resumeFrom = ids[0] as number;
  const resumed = await open('', { 'last-event-id': String(resumeFrom - 1) });
  await eventually('resumed from Last-Event-ID', () => resumed.text().includes('stream probe info'));

  t.equal((await client.post('/api/logout', {})).status, 200);
  await Promise.all([all.ended, warnOnly.ended, resumed.ended]);
  t.pass('logout ends the open streams');

  t.equal((await client.post('/api/login', { password: GOOD_PASSWORD })).status, 200);
  const held = await open('');
  const t0 = Date.now();
  await box.agent.supervisor.restart('web');
  await held.ended;
  t.ok(Date.now() - t0 < 3000, `a module restart ends open streams instead of waiting for them (${Date.now() - t0} ms)`);
});
