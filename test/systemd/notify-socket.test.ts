import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startAgent } from '../helpers/agent-process.js';

const receiverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'notify-receiver.py');

interface Notification {
  t: number;
  fields: Record<string, string>;
}

/**
 * A real NOTIFY_SOCKET: a unix datagram socket served by notify-receiver.py (Node cannot bind
 * one). The agent's systemd-notify calls land here exactly as they would at systemd.
 */
async function notifySocket(t: Test): Promise<{ socket: string; messages: Notification[]; dir: string; waitFor: (pred: (m: Notification) => boolean, ms: number) => Promise<Notification> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-notify-'));
  const socket = path.join(dir, 'notify.sock');
  const proc = spawn('python3', [receiverScript, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const messages: Notification[] = [];
  const waiters: Array<() => void> = [];
  const lines = readline.createInterface({ input: proc.stdout });
  await new Promise<void>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`notify receiver exited with ${code}`)));
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as Notification | { listening: string };
      if ('listening' in parsed) {
        resolve();
        return;
      }
      // systemd-notify's BARRIER=1 acknowledgement round-trip is protocol, not a notification.
      if (parsed.fields['BARRIER'] === '1') return;
      messages.push(parsed);
      for (const w of waiters.splice(0)) w();
    });
  });
  const waitFor = (pred: (m: Notification) => boolean, ms: number): Promise<Notification> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching notification in ${ms} ms; got ${JSON.stringify(messages)}`)), ms);
      const check = (): void => {
        const hit = messages.find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(check);
      };
      check();
    });
  return { socket, messages, dir, waitFor };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const feeds = (messages: Notification[]) => messages.filter((m) => m.fields['WATCHDOG'] === '1');

t.test('a healthy agent: READY=1 after its modules started, WATCHDOG=1 every half timeout, STOPPING=1 on SIGTERM', async (t) => {
  const { socket, messages, dir, waitFor } = await notifySocket(t);
  const dataDir = path.join(dir, 'data');
  // 400 ms watchdog: a feed every 200 ms.
  const agent = await startAgent({ PRAXISBOX_DATA_DIR: dataDir, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' }, [], 30_000);
  t.teardown(() => agent.proc.kill('SIGKILL'));
  const ready = await waitFor((m) => m.fields['READY'] === '1', 5_000);
  t.equal(messages[0], ready, 'READY=1 is the first notification');
  t.equal(ready.fields['MAINPID'], String(agent.proc.pid), 'MAINPID is the agent itself');
  t.match(ready.fields['STATUS'], /^(ok|degraded): \d+ modules running/);
  t.notMatch(ready.fields['STATUS'], /starting/, 'no module was still starting');

  await sleep(1_300);
  const fed = feeds(messages);
  t.ok(fed.length >= 4, `${fed.length} feeds in 1.3 s at a 200 ms period`);
  t.ok(fed.every((m) => m.t >= ready.t), 'no feed before READY');
  const gaps = fed
    .slice(1)
    .map((m, i) => m.t - (fed[i] as Notification).t)
    .sort((a, b) => a - b);
  // The median, not the maximum: on a loaded CI machine one spawn of systemd-notify may be late.
  const median = gaps[Math.floor(gaps.length / 2)] as number;
  t.ok(median >= 150 && median < 400, `feeds every ~200 ms (median gap ${median} ms, timeout 400 ms)`);

  const code = await agent.stop('SIGTERM');
  t.equal(code, 0);
  const stopping = await waitFor((m) => m.fields['STOPPING'] === '1', 5_000);
  t.equal(stopping.fields['STATUS'], 'stopping');
  t.ok(agent.output().includes('"msg":"systemd notified: ready"'));
});

t.test('a critical module down: fed through the grace period, then no more WATCHDOG=1', async (t) => {
  const { socket, messages, dir, waitFor } = await notifySocket(t);
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  // The outbox (a critical module) cannot open a directory where a file is: box health is fault.
  fs.writeFileSync(path.join(dataDir, 'outbox'), 'not a directory');
  const agent = await startAgent({ PRAXISBOX_DATA_DIR: dataDir, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000', PRAXISBOX_WATCHDOG_FAULT_GRACE_SEC: '1' }, [], 30_000);
  t.teardown(() => agent.proc.kill('SIGKILL'));
  const ready = await waitFor((m) => m.fields['READY'] === '1', 5_000);
  t.match(ready.fields['STATUS'], /^fault: .*outbox unavailable/, 'READY even though a module is unavailable');

  const withheld = await waitFor((m) => /watchdog not fed/.test(m.fields['STATUS'] ?? ''), 5_000);
  t.notOk(withheld.fields['WATCHDOG'], 'the STATUS-only message carries no feed');
  const fedInGrace = feeds(messages);
  t.ok(fedInGrace.length >= 2, `${fedInGrace.length} feeds during the 1 s grace period`);
  t.ok(withheld.t - ready.t >= 900, `withheld after the grace period (${withheld.t - ready.t} ms after READY)`);

  await sleep(1_200);
  t.equal(feeds(messages).length, fedInGrace.length, 'no WATCHDOG=1 for 1.2 s, three timeouts: systemd would restart the agent');
  t.match(agent.output(), /critical modules \(outbox\) down longer than the grace period/);

  await agent.stop('SIGTERM');
  await waitFor((m) => m.fields['STOPPING'] === '1', 5_000);
});

t.test('outside systemd the agent sends nothing and runs as before', async (t) => {
  const { dir } = await notifySocket(t);
  const agent = await startAgent({ PRAXISBOX_DATA_DIR: path.join(dir, 'data'), NOTIFY_SOCKET: '', WATCHDOG_USEC: '400000' }, [], 30_000);
  await sleep(300);
  t.equal(await agent.stop('SIGTERM'), 0);
  t.notOk(agent.output().includes('systemd notified'));
});
