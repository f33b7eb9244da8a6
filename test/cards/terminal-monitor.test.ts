import t from 'tap';
import { TerminalMonitor, statusChanges, type MonitorListener } from '../../agent/cards/terminal-monitor.js';
import { systemClock } from '../../agent/core/clock.js';
import { captureLog } from '../helpers/quiet-log.js';
import { FakePcsc } from './fake-pcsc.js';
import { virtualCard } from '../../agent/cards/sim/virtual-cards.js';
import type { ReaderStatus } from '../../agent/cards/pcsc-driver.js';

function recorder(): { listener: MonitorListener; events: string[]; next: (prefix: string, timeoutMs?: number) => Promise<void> } {
  const events: string[] = [];
  const waiters: Array<{ prefix: string; resolve: () => void }> = [];
  const push = (e: string): void => {
    events.push(e);
    for (const w of waiters.splice(0)) {
      if (e.startsWith(w.prefix)) w.resolve();
      else waiters.push(w);
    }
  };
  return {
    events,
    listener: {
      readerAttached: (s) => push(`attached ${s.name}`),
      readerDetached: (n) => push(`detached ${n}`),
      cardInserted: (s) => push(`inserted ${s.name}`),
      cardRemoved: (n) => push(`removed ${n}`),
      serviceDown: () => push('down'),
      serviceUp: () => push('up'),
    },
    next: (prefix, timeoutMs = 2_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${prefix}" within ${timeoutMs} ms; events: ${events.join(', ')}`)), timeoutMs);
        waiters.push({
          prefix,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}

const status = (present: boolean, eventCount: number): ReaderStatus => ({ name: 'r', state: 0, changed: true, present, mute: false, gone: false, eventCount });

t.test('statusChanges: insert, remove, and a swap between two polls', async (t) => {
  t.same(statusChanges(status(false, 0), status(true, 1)), ['inserted']);
  t.same(statusChanges(status(true, 1), status(false, 2)), ['removed']);
  t.same(statusChanges(status(true, 1), status(true, 3)), ['removed', 'inserted']);
  t.same(statusChanges(status(true, 0xffff), status(true, 1)), ['removed', 'inserted'], 'the counter wraps');
  t.same(statusChanges(status(true, 1), status(true, 2)), []);
});

t.test('readers and cards come and go; pcscd crashes and returns; stop ends everything', async (t) => {
  const pcsc = new FakePcsc();
  pcsc.attach('Reader A 00 00');
  pcsc.insert('Reader A 00 00', virtualCard('kvk'));
  const rec = recorder();
  const { log, text } = captureLog('debug');
  const monitor = new TerminalMonitor({ driver: pcsc, clock: systemClock, log, listener: rec.listener, backoff: () => ({ baseMs: 50, maxMs: 100 }) });
  t.teardown(() => monitor.stop());
  await monitor.start();
  t.same(rec.events, ['attached Reader A 00 00', 'inserted Reader A 00 00'], 'a card already inserted at start is reported');
  t.equal(monitor.service.state, 'up');

  pcsc.attach('Reader B 00 00');
  await rec.next('attached Reader B');
  pcsc.insert('Reader B 00 00', virtualCard('egk'));
  await rec.next('inserted Reader B');
  pcsc.remove('Reader A 00 00');
  await rec.next('removed Reader A');
  pcsc.insert('Reader B 00 00', virtualCard('kvk'));
  await rec.next('inserted Reader B');
  pcsc.detach('Reader B 00 00');
  await rec.next('detached Reader B');
  t.same(rec.events.slice(2), [
    'attached Reader B 00 00',
    'inserted Reader B 00 00',
    'removed Reader A 00 00',
    'removed Reader B 00 00',
    'inserted Reader B 00 00',
    'removed Reader B 00 00',
    'detached Reader B 00 00',
  ]);

  rec.events.length = 0;
  pcsc.insert('Reader A 00 00', virtualCard('egk'));
  await rec.next('inserted Reader A');
  pcsc.crash();
  await rec.next('down');
  t.same(rec.events, ['inserted Reader A 00 00', 'removed Reader A 00 00', 'detached Reader A 00 00', 'down']);
  t.equal(monitor.service.state, 'down');
  t.match(monitor.service, { reason: 'PC/SC service lost: DeviceUnavailable: PC/SC wait for change failed: no-service' });
  t.equal(monitor.readers().length, 0);
  await new Promise((r) => setTimeout(r, 250));
  t.ok(pcsc.establishCalls >= 3, 'retried with backoff while down');
  t.match(monitor.service, { state: 'down', reason: 'PC/SC service not available: DeviceUnavailable: PC/SC establish context failed: no-service' });

  rec.events.length = 0;
  pcsc.restart();
  await rec.next('inserted Reader A');
  t.same(rec.events, ['up', 'attached Reader A 00 00', 'inserted Reader A 00 00']);
  t.equal(pcsc.open.size, 1, 'the dead context was closed, one live context remains');
  t.match(text(), /PC\/SC service is back/);

  await monitor.stop();
  t.equal(pcsc.open.size, 0, 'stop closes the context');
  t.same(monitor.service, { state: 'stopped' });
});

t.test('start fails while pcscd is missing; nudge retries at once', async (t) => {
  const pcsc = new FakePcsc();
  pcsc.up = false;
  const rec = recorder();
  const { log } = captureLog();
  const monitor = new TerminalMonitor({ driver: pcsc, clock: systemClock, log, listener: rec.listener, backoff: () => ({ baseMs: 60_000, maxMs: 60_000 }) });
  t.teardown(() => monitor.stop());
  await t.rejects(monitor.start(), { code: 'DeviceUnavailable', message: 'PC/SC establish context failed: no-service' });
  pcsc.up = true;
  await monitor.start();
  pcsc.crash();
  await rec.next('down');
  pcsc.restart();
  const calls = pcsc.establishCalls;
  monitor.nudge();
  await rec.next('up', 500);
  t.equal(pcsc.establishCalls, calls + 1, 'one immediate attempt instead of a minute of backoff');
  monitor.nudge();
  t.equal(pcsc.establishCalls, calls + 1, 'no effect while up');
  await monitor.stop();
});
