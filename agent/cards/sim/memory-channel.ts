import type { CardChannel } from '../card-channel.js';
import type { IsoCard } from './iso-card.js';

/** Thrown by the in-memory channel when a fault pulls the card, like PC/SC's failed transmit. */
export class SimCardRemovedError extends Error {
  constructor() {
    super('virtual card removed');
    this.name = 'SimCardRemovedError';
  }
}

/** A CardChannel straight to a virtual card, without PC/SC: for unit tests of the readers. */
export function memoryChannel(card: IsoCard): CardChannel & { removed: boolean } {
  const channel = {
    removed: false,
    async transmit(apdu: Uint8Array): Promise<Uint8Array> {
      if (channel.removed) throw new SimCardRemovedError();
      const r = card.process(apdu);
      if (r.kind === 'remove') {
        channel.removed = true;
        throw new SimCardRemovedError();
      }
      return r.bytes;
    },
  };
  return channel;
}
