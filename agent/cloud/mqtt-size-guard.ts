/**
 * Watches the bytes a client sends and reports the first MQTT packet whose declared size exceeds
 * a limit — before the broker buffers it. aedes has no packet size limit of its own, and its parser
 * would collect a 256 MB packet in memory. Pure: feed it chunks as they arrive.
 *
 * MQTT fixed header (3.1.1 §2.2, 5.0 §2.1.1): one byte type/flags, then the remaining length as a
 * variable byte integer of 1–4 bytes (7 bits each, high bit = more).
 */
export class MqttPacketSizeGuard {
  readonly #limit: number;
  #state: 'type' | 'length' | 'body' = 'type';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  /** Returns undefined while every packet is within the limit, else the reason. */
  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'type') {
        i += 1;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else if (this.#state === 'length') {
        const b = chunk[i] as number;
        i += 1;
        this.#length += (b & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes += 1;
        if (this.#length > this.#limit) return `packet of ${this.#length}+ bytes exceeds the limit of ${this.#limit}`;
        if ((b & 0x80) === 0) {
          this.#remaining = this.#length;
          this.#state = this.#remaining === 0 ? 'type' : 'body';
        } else if (this.#lengthBytes >= 4) {
          return 'malformed remaining length';
        }
      } else {
        const take = Math.min(this.#remaining, chunk.length - i);
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'type';
      }
    }
    return undefined;
  }
}
