import { PcscError, PNP_NOTIFICATION, type KnownReader, type PcscCard, type PcscContext, type PcscDriver, type ReaderStatus, type WaitResult } from '../../agent/cards/pcsc-driver.js';
import type { IsoCard } from '../../agent/cards/sim/iso-card.js';

/**
 * A typed in-memory PC/SC service for unit tests of the monitor and the module: readers and cards
 * change on command, waits resolve on change, a "crash" fails every context like a dead pcscd.
 */
interface FakeReader {
  present: boolean;
  events: number;
  card?: IsoCard;
  /** Transmits never answer (a hung terminal). */
  hang?: boolean;
}

interface Wait {
  known: readonly KnownReader[];
  resolve: (r: WaitResult) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
  ctx: FakeContext;
}

export class FakePcsc implements PcscDriver {
  up = true;
  readonly readers = new Map<string, FakeReader>();
  readonly open = new Set<FakeContext>();
  establishCalls = 0;
  #waits: Wait[] = [];

  async establish(): Promise<PcscContext> {
    this.establishCalls += 1;
    if (!this.up) throw new PcscError('no-service', 'PC/SC establish context failed: no-service');
    const ctx = new FakeContext(this);
    this.open.add(ctx);
    return ctx;
  }

  status(name: string): ReaderStatus {
    const r = this.readers.get(name);
    if (!r) return { name, state: 0x10002, changed: true, present: false, mute: false, gone: true, eventCount: 0 };
    return { name, state: (r.events << 16) | (r.present ? 0x20 : 0x10), changed: false, present: r.present, mute: false, gone: false, eventCount: r.events };
  }

  pnpState(): number {
    return this.readers.size << 16;
  }

  attach(name: string): void {
    this.readers.set(name, { present: false, events: 0 });
    this.#wake();
  }

  detach(name: string): void {
    this.readers.delete(name);
    this.#wake();
  }

  insert(name: string, card: IsoCard, options: { hang?: boolean } = {}): void {
    const r = this.readers.get(name);
    if (!r) throw new Error(`no reader ${name}`);
    card.reset();
    // A card swapped between two polls counts as a removal and an insertion (pcsc-lite's counter).
    Object.assign(r, { present: true, events: r.events + (r.present ? 2 : 1), card, hang: options.hang ?? false });
    this.#wake();
  }

  remove(name: string): void {
    const r = this.readers.get(name);
    if (!r) return;
    Object.assign(r, { present: false, events: r.events + 1, card: undefined });
    this.#wake();
  }

  /** pcscd died: every context is dead, waits fail, new contexts fail until `restart`. */
  crash(): void {
    this.up = false;
    for (const ctx of this.open) ctx.dead = true;
    for (const w of this.#waits.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PcscError('no-service', 'PC/SC wait for change failed: no-service'));
    }
  }

  restart(): void {
    this.up = true;
  }

  wait(ctx: FakeContext, known: readonly KnownReader[], timeoutMs: number): Promise<WaitResult> {
    const changes = this.#changes(known);
    if (changes) return Promise.resolve(changes);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waits = this.#waits.filter((w) => w.timer !== timer);
        resolve('timeout');
      }, timeoutMs);
      this.#waits.push({ known, resolve, reject, timer, ctx });
    });
  }

  cancel(ctx: FakeContext): void {
    for (const w of this.#waits.filter((x) => x.ctx === ctx)) {
      clearTimeout(w.timer);
      w.resolve('cancelled');
    }
    this.#waits = this.#waits.filter((x) => x.ctx !== ctx);
  }

  #changes(known: readonly KnownReader[]): ReaderStatus[] | undefined {
    const out: ReaderStatus[] = known.map((k) => {
      if (k.name === PNP_NOTIFICATION) {
        const state = this.pnpState();
        return { name: k.name, state, changed: state !== k.state, present: false, mute: false, gone: false, eventCount: 0 };
      }
      const s = this.status(k.name);
      return { ...s, changed: s.gone || s.state !== k.state };
    });
    return out.some((s) => s.changed) ? out : undefined;
  }

  #wake(): void {
    for (const w of [...this.#waits]) {
      const changes = this.#changes(w.known);
      if (!changes) continue;
      clearTimeout(w.timer);
      this.#waits = this.#waits.filter((x) => x !== w);
      w.resolve(changes);
    }
  }
}

export class FakeContext implements PcscContext {
  readonly #pcsc: FakePcsc;
  dead = false;
  closed = false;

  constructor(pcsc: FakePcsc) {
    this.#pcsc = pcsc;
  }

  #alive(): void {
    if (this.dead || this.closed) throw new PcscError('no-service', 'PC/SC call failed: no-service');
  }

  readers(): ReaderStatus[] {
    this.#alive();
    return [...this.#pcsc.readers.keys()].map((n) => this.#pcsc.status(n));
  }

  waitForChange(known: readonly KnownReader[], timeoutMs: number): Promise<WaitResult> {
    try {
      this.#alive();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#pcsc.wait(this, known, timeoutMs);
  }

  cancel(): void {
    this.#pcsc.cancel(this);
  }

  async connect(reader: string): Promise<PcscCard> {
    this.#alive();
    const r = this.#pcsc.readers.get(reader);
    if (!r) throw new PcscError('reader-unavailable', 'PC/SC connect failed: reader-unavailable');
    const card = r.card;
    if (!r.present || !card) throw new PcscError('no-card', 'PC/SC connect failed: no-card');
    const hang = r.hang ?? false;
    return {
      atr: card.atr,
      async transmit(apdu: Uint8Array): Promise<Uint8Array> {
        if (hang) return new Promise<Uint8Array>(() => undefined);
        if (r.card !== card) throw new PcscError('removed', 'PC/SC transmit failed: removed');
        const res = card.process(apdu);
        if (res.kind === 'remove') throw new PcscError('transaction-failed', 'PC/SC transmit failed: transaction-failed');
        return res.bytes;
      },
      async reset(): Promise<void> {
        card.reset();
      },
      disconnect(): void {},
    };
  }

  close(): void {
    this.closed = true;
    this.#pcsc.open.delete(this);
  }
}
