import t from 'tap';
import { EventBus } from '../../agent/core/bus.js';
import { captureLog } from '../helpers/quiet-log.js';

interface Events {
  ping: { n: number };
  other: { s: string };
}

t.test('listeners get typed payloads and are removed by owner', async (t) => {
  const { log } = captureLog();
  const bus = new EventBus<Events>(log);
  const got: number[] = [];
  bus.on('a', 'ping', (p) => void got.push(p.n));
  bus.on('b', 'ping', (p) => void got.push(p.n * 10));
  bus.emit('ping', { n: 1 });
  bus.offOwner('a');
  bus.emit('ping', { n: 2 });
  t.same(got, [1, 10, 20]);
  t.equal(bus.listenerCount('ping'), 1);
});

t.test('a throwing or rejecting listener is logged with owner and event, others still run', async (t) => {
  const { log, text } = captureLog();
  const bus = new EventBus<Events>(log);
  const got: string[] = [];
  bus.on('broken', 'other', () => {
    throw new Error('boom');
  });
  bus.on('async-broken', 'other', async () => {
    throw new TypeError('later');
  });
  bus.on('fine', 'other', (p) => void got.push(p.s));
  bus.emit('other', { s: 'Erika Mustermann' });
  await new Promise((r) => setImmediate(r));
  t.same(got, ['Erika Mustermann']);
  t.match(text(), /listener of other in broken failed/);
  t.match(text(), /listener of other in async-broken failed: TypeError/);
  t.notMatch(text(), /Mustermann/, 'payload never logged');
});

t.test('the unsubscribe function removes one listener', async (t) => {
  const bus = new EventBus<Events>(captureLog().log);
  let n = 0;
  const off = bus.on('x', 'ping', () => void n++);
  off();
  bus.emit('ping', { n: 1 });
  t.equal(n, 0);
});
