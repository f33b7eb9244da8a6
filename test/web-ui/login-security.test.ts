import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startAgent, runCli } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/fixtures.js';
import { launchBrowser } from './browser.js';

/**
 * The bad paths around the session, from the browser: CSRF token missing or wrong, logout, login
 * lockout after repeated wrong passwords (the page shows the wait and disables the button).
 */
const PASSWORD = `Praxis-${randomBytes(6).toString('hex')}-Box!`;

t.test('CSRF, logout and login lockout', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-webui-sec-');
  t.teardown(cleanup);
  const env = { PRAXISBOX_DATA_DIR: dir, PRAXISBOX_WEB_PORT: '0' };
  const agent = await startAgent(env);
  t.teardown(() => agent.stop());
  const base = /web UI on (https?:\/\/[^\s"]+?)\/?["\s]/.exec(agent.output())?.[1];
  if (!base) throw new Error(`no web UI URL in the log:\n${agent.output()}`);
  const setupCode = (await runCli(['setup-code'], env)).stdout.trim().split('\n').pop()?.trim() ?? '';

  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = b.page;
  await page.goto(base);
  await page.getByLabel('Einrichtungscode', { exact: true }).fill(setupCode);
  await page.getByRole('button', { name: 'Weiter' }).click();
  await page.getByLabel('Neues Passwort', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Passwort wiederholen', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Einrichtung abschließen' }).click();
  await page.getByRole('heading', { name: 'Übersicht' }).waitFor();

  await t.test('a change without the CSRF token is refused, with the token it runs', async (t) => {
    const cookie = (await b.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/api/commands/config.set`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body: JSON.stringify({ args: { path: 'box.name', value: 'Angriff' } }) });
    const none = await post({});
    t.equal(none.status, 403, 'no token: 403');
    t.match(await none.json(), { error: { code: /csrf/i } });
    t.equal((await post({ 'x-csrf-token': 'x'.repeat(43) })).status, 403, 'wrong token: 403');
    const session = (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()) as { csrfToken: string };
    const ok = await post({ 'x-csrf-token': session.csrfToken });
    t.equal(ok.status, 200, 'the right token: the command runs');
    const name = JSON.parse((await runCli(['config', 'get', 'box.name'], env)).stdout) as string;
    t.equal(name, 'Angriff');
    await page.reload();
    await page.getByTestId('box-name').getByText('Angriff').waitFor();
    t.pass('the header shows the box name from the configuration');
  });

  await t.test('logout, then too many wrong passwords lock the login', async (t) => {
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    await b.shot('04-login');
    const field = page.getByLabel('Administrator-Passwort');
    let locked = false;
    for (let i = 0; i < 8 && !locked; i++) {
      await field.fill(`falsch-${i}`);
      await page.getByRole('button', { name: /^Anmelden/ }).click();
      const message = page.locator('.field-error');
      await message.waitFor();
      const text = (await message.textContent()) ?? '';
      if (/Zu viele Fehlversuche/.test(text)) locked = true;
      else t.match(text, 'Das Passwort ist falsch.', `attempt ${i + 1}: wrong password`);
    }
    t.ok(locked, 'locked out after repeated failures');
    t.ok(await page.getByRole('button', { name: /^Anmelden/ }).isDisabled(), 'the button waits out the lockout');
    await b.shot('19-login-locked');
    const right = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
    t.equal(right.status, 429, 'even the right password waits while locked');
  });
});
