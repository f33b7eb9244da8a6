import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { cliPath, startAgent, runCli, type RunningAgent } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/fixtures.js';
import { startIppPrinter } from '../helpers/ipp-printer.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { eventually } from '../helpers/test-agent.js';
import { axeViolations, launchBrowser, type Browser } from './browser.js';

/**
 * The whole first visit of the practice's IT provider, in a real Chromium against a real agent
 * (built CLI), a real Mosquitto with dynamic security + cloud-sim for pairing, and a real IPP
 * printer: setup code → password → pairing (expired, denied, approved) → printer + test page →
 * document type mapping → GDT device + test order → everything green. Screenshots of every page
 * land in test-artifacts/web-ui/.
 */
const PASSWORD = `Praxis-${randomBytes(6).toString('hex')}-Box!`;
const admin = { adminUser: 'cloud-admin', adminPassword: randomBytes(12).toString('hex') };
const CODE_TTL_SECONDS = 5;

t.test('first run to green in the browser', async (t) => {
  const broker = await startMosquitto({ dynsec: admin });
  t.teardown(broker.cleanup);
  const simCli = ['cloud-sim', '--url', broker.url, '--username', admin.adminUser, '--password', admin.adminPassword];
  // The cloud side as an operator runs it: `praxisbox cloud-sim watch --dynsec` in its own process.
  const sim = spawn(process.execPath, [cliPath, ...simCli, 'watch', '--dynsec', '--code-ttl', String(CODE_TTL_SECONDS), '--poll-interval', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const simExited = new Promise((r) => sim.once('exit', r));
  t.teardown(async () => {
    sim.kill('SIGINT');
    const timer = setTimeout(() => sim.kill('SIGKILL'), 2_000);
    await simExited;
    clearTimeout(timer);
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`cloud-sim did not get ready:\n${out}`)), 15_000);
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      if (out.includes('cloud-sim ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    sim.stdout.on('data', onData);
    sim.stderr.on('data', onData);
  });

  const printer = await startIppPrinter({ name: 'Empfang Laser', duplex: true });
  t.teardown(() => printer.stop());

  const { dir, cleanup } = await tempDir('praxisbox-webui-');
  t.teardown(cleanup);
  const gdtRoot = path.join(dir, 'gdt');
  const env = { PRAXISBOX_DATA_DIR: dir, PRAXISBOX_WEB_PORT: '0', PRAXISBOX_CLOUD_URL: broker.url, PRAXISBOX_GDT_ROOT: gdtRoot };
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ cloud: { reconnectMinMs: 100, reconnectMaxMs: 1_000 } }));
  const agent: RunningAgent = await startAgent(env);
  t.teardown(() => agent.stop());
  const base = /web UI on (https?:\/\/[^\s"]+?)\/?["\s]/.exec(agent.output())?.[1];
  if (!base) throw new Error(`no web UI URL in the log:\n${agent.output()}`);
  const setupCode = (await runCli(['setup-code'], env)).stdout.trim().split('\n').pop()?.trim() ?? '';
  t.match(setupCode, /\S{6,}/, 'praxisbox setup-code prints the code');

  const b: Browser = await launchBrowser();
  t.teardown(() => b.close());
  const page = b.page;
  const main = page.locator('main');

  await t.test('setup: a wrong code is refused next to its field, the right one sets the password', async (t) => {
    await page.goto(base);
    await page.getByRole('heading', { name: 'Ersteinrichtung' }).waitFor();
    await b.shot('01-setup-code');
    t.equal(await page.getByTestId('box-id').textContent() !== '', true, 'box id shown');
    await page.getByLabel('Einrichtungscode', { exact: true }).fill('FALSCH-123');
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.getByLabel('Neues Passwort', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Passwort wiederholen', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Einrichtung abschließen' }).click();
    const codeField = page.getByLabel('Einrichtungscode', { exact: true });
    await codeField.waitFor();
    await page.getByText('Der Einrichtungscode ist falsch.').waitFor();
    t.equal(await codeField.getAttribute('aria-invalid'), 'true', 'the code field is marked invalid');
    await b.shot('02-setup-wrong-code');

    await codeField.fill(setupCode);
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.getByLabel('Neues Passwort', { exact: true }).fill('kurz');
    await page.getByText(/Passwortstärke: zu schwach/).waitFor();
    await page.getByLabel('Neues Passwort', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Passwort wiederholen', { exact: true }).fill(PASSWORD);
    await b.shot('03-setup-password');
    await page.getByRole('button', { name: 'Einrichtung abschließen' }).click();
    await page.getByRole('heading', { name: 'Übersicht' }).waitFor();
    t.pass('logged in after setup');
  });

  await t.test('pairing: expired, denied, then approved', async (t) => {
    await page.getByRole('link', { name: 'Cloud', exact: true }).click();
    await page.getByRole('button', { name: 'Mit Cloud verbinden' }).click();
    const code = page.getByTestId('pair-code');
    await code.waitFor();
    const first = (await code.textContent()) ?? '';
    t.match(first, /^[A-Z]{4}-[A-Z]{4}$/, 'user code shown large');
    t.ok(await page.getByTestId('pair-qr').isVisible(), 'QR code shown');
    await b.shot('05-cloud-pairing-code');
    await page.getByText('Der Code ist abgelaufen.', { exact: false }).waitFor({ timeout: (CODE_TTL_SECONDS + 10) * 1000 });
    await b.shot('06-cloud-expired');
    t.pass('expiry shown');

    await page.getByRole('button', { name: 'Neuen Code anfordern' }).click();
    await code.waitFor();
    const second = (await code.textContent()) ?? '';
    t.not(second, first, 'a new code');
    const denied = await runCli([...simCli, 'deny', second], env);
    t.equal(denied.code, 0, `cloud-sim deny: ${denied.stderr}`);
    await page.getByText('Die Kopplung wurde im Praxis-Konto abgelehnt.').waitFor();
    await b.shot('07-cloud-denied');
    const again = await runCli([...simCli, 'approve', second], env);
    t.not(again.code, 0, 'a denied code cannot be approved afterwards');

    await page.getByRole('button', { name: 'Neuen Code anfordern' }).click();
    await code.waitFor();
    const third = (await code.textContent()) ?? '';
    const approved = await runCli([...simCli, 'approve', third, '--account-name', 'Praxis Dr. Muster'], env);
    t.equal(approved.code, 0, `cloud-sim approve: ${approved.stderr}`);
    await page.getByText('Gekoppelt! Die Box verbindet sich jetzt mit ihren eigenen Zugangsdaten.').waitFor();
    await main.getByText('Verbunden', { exact: true }).waitFor({ timeout: 15_000 });
    await b.shot('08-cloud-paired');
    t.pass('paired and connected');
  });

  await t.test('printer by URI, test page printed, document type mapped', async (t) => {
    await page.getByRole('link', { name: 'Drucker', exact: true }).click();
    await page.getByRole('heading', { name: 'Drucker', exact: true }).waitFor();
    await page.getByLabel('Anzeigename').fill('Empfang Laser');
    await page.getByLabel('Kennung').fill('Empfang');
    await page.getByLabel('Adresse (URI)').fill(printer.uri);
    await page.getByRole('button', { name: 'Drucker hinzufügen' }).last().click();
    const idField = page.getByLabel('Kennung');
    await page.locator('.field-error').first().waitFor();
    t.equal(await idField.getAttribute('aria-invalid'), 'true', 'an id with capitals is refused by the schema, next to the field');
    t.equal(await page.locator('.field-error').first().textContent(), 'Ungültiges Format', 'in German');
    await b.shot('09-printer-invalid-id');
    await idField.fill('empfang');
    await page.getByRole('button', { name: 'Drucker hinzufügen' }).last().click();
    const tile = page.locator('[data-printer="empfang"]');
    await tile.getByText('erreichbar', { exact: true }).waitFor({ timeout: 15_000 });
    await tile.getByRole('button', { name: 'Testseite drucken' }).click();
    await page.getByTestId('job-notice').getByText(/gedruckt$/).waitFor({ timeout: 30_000 });
    await printer.capturedJob(1, 10_000);
    await b.shot('10-printers');

    const row = page.locator('[data-doctype="au"]');
    await row.getByLabel('Arbeitsunfähigkeitsbescheinigung: Drucker').selectOption('empfang');
    await row.getByLabel('Arbeitsunfähigkeitsbescheinigung: Seiten').selectOption('two-sided-long-edge');
    await page.getByRole('button', { name: 'Zuordnung speichern' }).click();
    await page.getByText('Gespeichert.').first().waitFor();
    const mapped = await runCli(['config', 'get', 'printing.documentTypes.au'], env);
    t.match(JSON.parse(mapped.stdout), { printer: 'empfang', sides: 'two-sided-long-edge' }, 'mapping stored in the configuration');
    await b.shot('11-printers-mapped');
  });

  await t.test('GDT device configured, test order written', async (t) => {
    await page.getByRole('link', { name: 'GDT-Geräte', exact: true }).click();
    await page.getByRole('button', { name: 'Gerät hinzufügen' }).click();
    await page.getByLabel('Anzeigename').fill('EKG Raum 2');
    await page.getByLabel('Kennung', { exact: true }).fill('ekg');
    await page.getByLabel('GDT-Kennung des Geräts').fill('EKG-GERAET-ZU-LANG');
    await page.getByLabel('Untersuchungen (Testcodes)').fill('EKG01, BELEKG');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.locator('.field-error').first().waitFor();
    t.equal(await page.getByLabel('GDT-Kennung des Geräts').getAttribute('aria-invalid'), 'true', 'a GDT id over 8 characters is refused next to its field');
    await page.getByLabel('GDT-Kennung des Geräts').fill('EKGDEV');
    await page.getByLabel('Dateibenennung').selectOption('incrementing');
    await page.getByRole('button', { name: 'Zuordnung hinzufügen' }).click();
    await page.getByLabel('Pfad auf dem Geräte-PC').fill('C:\\GDT\\');
    await page.getByLabel('Ordner auf der Box').fill('ekg');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('Gespeichert.').waitFor();
    await page.getByRole('button', { name: 'Testauftrag senden' }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Testauftrag senden' }).click();
    await page.getByTestId('gdt-test').getByText(/Testauftrag TEST-/).waitFor();
    await eventually('the order file is in the device folder', async () => (await fs.readdir(path.join(gdtRoot, 'ekg')).catch(() => [])).some((f) => /\.001$/.test(f)), 10_000);
    await b.shot('12-gdt');
    t.pass('order file written');
  });

  await t.test('broker user, audit log, overview green', async (t) => {
    await page.getByRole('link', { name: 'MQTT-Benutzer', exact: true }).click();
    await page.getByLabel('Benutzername').fill('praxis-pvs');
    await page.getByLabel('Passwort', { exact: true }).fill('kurz');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.locator('.field-error').first().waitFor();
    await page.getByLabel('Passwort', { exact: true }).fill(`pvs-${randomBytes(8).toString('hex')}`);
    await page.getByLabel('Befehle senden').check();
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByTestId('broker-users').getByText('praxis-pvs').waitFor();
    await b.shot('13-broker-users');
    const stored = JSON.parse((await runCli(['config', 'get', 'localBroker.users'], env)).stdout) as Array<{ name: string; rights: string[] }>;
    t.match(stored, [{ name: 'praxis-pvs', rights: ['events', 'commands'] }], 'user stored with both rights');

    await page.getByRole('link', { name: 'Änderungsprotokoll', exact: true }).click();
    await page.getByTestId('audit').getByText('Befehl config.set · printing').first().waitFor();
    await b.shot('14-audit');

    const streamed = page.waitForRequest(/\/api\/logs\/stream\?level=info/, { timeout: 10_000 });
    await page.getByRole('link', { name: 'Übersicht', exact: true }).click();
    await streamed;
    t.pass('the log follows the server-sent event stream');
    const overall = page.getByTestId('overall-health');
    await eventually('overall health green', async () => (await overall.getAttribute('data-health')) === 'ok', 20_000).catch(async (err: Error) => {
      await b.shot('15-overview-not-green');
      throw new Error(`${err.message}: ${await page.getByTestId('modules').innerText()}`);
    });
    await page.getByRole('button', { name: 'Jetzt synchronisieren' }).click();
    await page.getByTestId('sync-result').getByText(/Synchronisiert:/).waitFor();
    // The live log shows a line written after the page opened (a change made with the CLI).
    t.equal((await runCli(['config', 'set', 'box.name', 'Praxis Dr. Muster'], env)).code, 0);
    await page.getByTestId('log-table').getByText('configuration changed: box').first().waitFor({ timeout: 10_000 });
    t.pass('new log line appears without reloading');
    await b.shot('15-overview-green');
    t.pass('overview green');
    const download = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Diagnosepaket herunterladen' }).click()]).then(([d]) => d);
    const bundle = await fs.readFile((await download.path()) ?? '', 'utf8');
    t.notMatch(bundle, PASSWORD, 'no admin password in the diagnostics bundle');
    t.notMatch(bundle, setupCode, 'no setup code in the diagnostics bundle');
  });

  await t.test('accessibility and English', async (t) => {
    for (const route of ['overview', 'cloud', 'printers', 'gdt', 'broker', 'account']) {
      await page.goto(`${base}/#/${route}`);
      await page.locator('h1').waitFor();
      await page.waitForTimeout(300);
      t.same(await axeViolations(page), [], `no serious axe findings on ${route}`);
    }
    await page.goto(`${base}/#/overview`);
    await page.getByRole('button', { name: /Sprache: English/ }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await b.shot('16-overview-english');
    await page.getByRole('button', { name: /Language: Deutsch/ }).click();
    await page.getByRole('heading', { name: 'Übersicht' }).waitFor();
    const tablet = await b.context.newPage();
    await tablet.setViewportSize({ width: 768, height: 1024 });
    await tablet.goto(`${base}/#/printers`);
    await tablet.getByRole('heading', { name: 'Drucker', exact: true }).waitFor();
    await b.shot('17-tablet-printers', tablet);
    await tablet.close();
    // keyboard: on a fresh load the skip link is the first stop
    await page.reload();
    await page.getByRole('heading', { name: 'Übersicht' }).waitFor();
    await page.keyboard.press('Tab');
    t.equal(await page.locator(':focus').textContent(), 'Zum Inhalt springen', 'skip link first in tab order');
  });

  await t.test('Trennen asks first, then removes the pairing', async (t) => {
    await page.getByRole('link', { name: 'Cloud', exact: true }).click();
    await page.getByRole('button', { name: 'Trennen' }).click();
    await page.getByRole('alertdialog').getByText(/Wirklich trennen\?/).waitFor();
    await b.shot('19-cloud-unpair-confirm');
    await page.getByRole('button', { name: 'Abbrechen' }).click();
    t.equal(await page.getByTestId('pair-state').getAttribute('data-state'), 'paired', 'cancel keeps the pairing');
    await page.getByRole('button', { name: 'Trennen' }).click();
    await page.getByRole('button', { name: 'Ja, trennen' }).click();
    await page.getByText('Die Box ist getrennt.').waitFor();
    t.equal(await page.getByTestId('pair-state').getAttribute('data-state'), 'unpaired');
    t.ok(await page.getByRole('button', { name: 'Mit Cloud verbinden' }).isVisible(), 'ready to pair again');
  });

  await t.test('password change ends old sessions; the old cookie is refused', async (t) => {
    const before = (await b.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await page.getByRole('link', { name: 'Konto', exact: true }).click();
    await page.getByLabel('Aktuelles Passwort').fill('falsch-falsch-falsch');
    await page.getByLabel('Neues Passwort', { exact: true }).fill(`${PASSWORD}-2`);
    await page.getByLabel('Neues Passwort wiederholen').fill(`${PASSWORD}-2`);
    await page.getByRole('button', { name: 'Passwort ändern' }).click();
    await page.getByText('Das aktuelle Passwort ist falsch.').waitFor();
    await page.getByLabel('Aktuelles Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Passwort ändern' }).click();
    await page.getByTestId('password-notice').getByText(/Das Passwort wurde geändert/).waitFor();
    await b.shot('18-account');
    const old = await fetch(`${base}/api/status`, { headers: { cookie: before } });
    t.equal(old.status, 401, 'the session cookie from before the change is refused');
    await page.getByRole('link', { name: 'Übersicht', exact: true }).click();
    await page.getByRole('heading', { name: 'Übersicht' }).waitFor();
    t.pass('this browser continues with its new session');
    t.notMatch(agent.output(), PASSWORD, 'the password never reaches the log');
    t.notMatch(agent.output(), setupCode, 'the setup code never reaches the log');
  });

  await t.test('the pages ran without console errors (CSP refusals included)', async (t) => {
    // Refused requests (400 validation, 401, 503 while a module restarts) are answers the pages handle.
    t.same(b.problems.filter((p) => !/^Failed to load resource: the server responded with a status of [45]\d\d/.test(p)), [], 'no console errors');
  });
});
