import { parentPort, workerData } from 'node:worker_threads';
import { VpcdCard } from './vpcd-card.js';
import { virtualCard } from './virtual-cards.js';
import type { IsoCard } from './iso-card.js';
import type { VirtualCardSpec, VpcdSlotOptions } from './vpcd-slot.js';

/**
 * Worker side of VpcdSlot: the virtual cards and their vpcd connection live here, on their own event
 * loop, so a card keeps answering pcscd while the main thread sits in a synchronous PC/SC call.
 */
const options = workerData as VpcdSlotOptions;
const port = parentPort;
let card: IsoCard | undefined;
let vpcd: VpcdCard | undefined;

if (port) {
  port.on('message', (msg: { cmd: 'insert' | 'remove' | 'log' | 'ping'; id: number; card?: VirtualCardSpec }) => {
    const reply = (extra: Record<string, unknown> = {}): void => port.postMessage({ ev: 'done', id: msg.id, ...extra });
    const state = (): void => port.postMessage({ ev: 'state', pulled: vpcd?.pulled ?? false, connections: vpcd?.connections ?? 0 });
    switch (msg.cmd) {
      case 'insert': {
        const spec = msg.card;
        if (!spec) return reply();
        void (vpcd?.remove() ?? Promise.resolve()).then(async () => {
          card = virtualCard(spec.type, {
            ...(spec.person ? { person: spec.person } : {}),
            ...(spec.extendedLength !== undefined ? { extendedLength: spec.extendedLength } : {}),
            ...(spec.faults ? { faults: spec.faults } : {}),
          });
          vpcd = new VpcdCard({ card, port: options.port, ...(options.host ? { host: options.host } : {}), reconnect: options.reconnect ?? true, onState: state });
          await vpcd.insert();
          reply();
        });
        return;
      }
      case 'remove':
        void (vpcd?.remove() ?? Promise.resolve()).then(() => reply());
        return;
      case 'log':
        return reply({ log: (card?.log ?? []).map((a) => Array.from(a)) });
      case 'ping':
        return reply();
    }
  });
}
