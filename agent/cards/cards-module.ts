import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import { describeError, ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Outbox } from '../outbox/outbox-event.js';
import type { CardEventBus, DetectedCardType } from './card-events.js';
import type { CardsConfig } from './cards-config.js';
import { runCardSession, type SessionOutcome } from './card-session.js';
import { CardEventSink } from './event-sink.js';
import { localIsoDate } from './insured-person.js';
import { isPcscError, type PcscDriver, type ReaderStatus } from './pcsc-driver.js';
import { TerminalMonitor, type MonitorListener } from './terminal-monitor.js';
import { identifyReader, refOf, terminalViews, type ReaderSnapshot, type TerminalIdentity, type TerminalView } from './terminal-registry.js';
import { startUsbHints, type UsbHints, type UsbHintsDeps } from './usb-hints.js';

export interface CardsModuleDeps {
  log: Logger;
  clock: Clock;
  outbox: Outbox;
  bus?: CardEventBus;
  /** Read on every use: terminal names and assignments apply to the next event without a restart. */
  config: () => CardsConfig;
  driver: PcscDriver;
  /** Overrides for the USB hints (tests); `false` turns them off regardless of configuration. */
  usb?: Pick<UsbHintsDeps, 'load' | 'sysfsPath'> | false;
}

interface CardEntry {
  insertionId: string;
  insertedAt: number;
  removal: AbortController;
  cardType: DetectedCardType;
  state: 'reading' | 'read' | 'error';
  code?: string;
}

interface ReaderRuntime {
  name: string;
  identity: TerminalIdentity;
  present: boolean;
  card?: CardEntry;
  /** Everything for this reader happens in order: sessions, removal, detach. */
  tail: Promise<void>;
  /** Learnt in `auto` mode: this reader cannot do extended length. */
  shortOnly?: boolean;
}

/**
 * Card terminals over PC/SC: watches readers and cards, reads every inserted card once, and appends
 * `terminal.*` and `card.*` events to the outbox (personal data wrapped in PatientData). The PC/SC
 * service may vanish at any time (pcscd restart): the monitor recreates its context with backoff and
 * health turns degraded meanwhile; a service missing at start makes the module unavailable.
 */
export class CardsModule implements AgentModule {
  readonly name = 'cards';
  readonly #deps: CardsModuleDeps;
  #monitor: TerminalMonitor | undefined;
  #sink: CardEventSink | undefined;
  #usb: UsbHints | undefined;
  readonly #readers = new Map<string, ReaderRuntime>();
  #stats = { reads: 0, errors: 0, lastReadMs: undefined as number | undefined };

  constructor(deps: CardsModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { log, clock, outbox, bus, config } = this.#deps;
    this.#sink = new CardEventSink({ outbox, log, clock, ...(bus ? { bus } : {}) });
    this.#monitor = new TerminalMonitor({
      driver: this.#deps.driver,
      clock,
      log,
      listener: this.#listener,
      backoff: () => ({ baseMs: config().reconnectBaseMs, maxMs: config().reconnectMaxMs }),
    });
    try {
      await this.#monitor.start();
    } catch (err) {
      const why = isPcscError(err) ? err.failure : describeError(err);
      throw new PraxisboxError(ErrorCode.DeviceUnavailable, `PC/SC service not available (${why})`, { cause: err });
    }
    if (this.#deps.usb !== false && config().usbHints) {
      const monitor = this.#monitor;
      this.#usb = await startUsbHints({ log, onChange: () => monitor.nudge(), ...(this.#deps.usb ?? {}) });
    }
  }

  async stop(): Promise<void> {
    this.#usb?.stop();
    this.#usb = undefined;
    await this.#monitor?.stop();
    const tails = [...this.#readers.values()].map((r) => {
      r.card?.removal.abort();
      return r.tail;
    });
    this.#readers.clear();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    await Promise.race([Promise.all(tails), new Promise((resolve) => (timer = this.#deps.clock.setTimeout(() => resolve(undefined), 3_000)))]);
    if (timer) this.#deps.clock.clearTimeout(timer);
    await this.#sink?.close(2_000);
    this.#monitor = undefined;
    this.#sink = undefined;
  }

  readonly #listener: MonitorListener = {
    readerAttached: (status: ReaderStatus) => {
      const identity = identifyReader(status.name, this.#deps.config());
      this.#readers.set(status.name, { name: status.name, identity, present: false, tail: Promise.resolve() });
      this.#deps.log.info({ terminalId: identity.id, configured: identity.configured }, `card terminal ${identity.id} attached`);
      void this.#sink?.emit('terminal.attached', {
        ...refOf(identity),
        readerName: status.name,
        name: identity.name,
        location: identity.location,
        configured: identity.configured,
      });
    },
    readerDetached: (name: string) => {
      const rt = this.#readers.get(name);
      if (!rt) return;
      this.#readers.delete(name);
      this.#deps.log.info({ terminalId: rt.identity.id }, `card terminal ${rt.identity.id} detached`);
      this.#after(rt, () => this.#sink?.emit('terminal.detached', { ...refOf(rt.identity), readerName: name }));
    },
    cardInserted: (status: ReaderStatus) => this.#cardInserted(status),
    cardRemoved: (name: string) => {
      const rt = this.#readers.get(name);
      if (rt) this.#cardRemoved(rt);
    },
    serviceDown: (reason: string) => this.#deps.log.warn({ reason }, 'card terminals unavailable until the PC/SC service is back'),
    serviceUp: () => this.#deps.log.info('card terminals available again'),
  };

  #after(rt: ReaderRuntime, work: () => Promise<unknown> | undefined): Promise<void> {
    const next = rt.tail.then(work).then(
      () => undefined,
      (err: unknown) => this.#deps.log.error({ terminalId: rt.identity.id, err }, `card terminal task failed: ${describeError(err)}`),
    );
    rt.tail = next;
    return next;
  }

  #cardInserted(status: ReaderStatus): void {
    const rt = this.#readers.get(status.name);
    if (!rt) return;
    if (rt.card) this.#cardRemoved(rt);
    rt.present = true;
    rt.identity = identifyReader(status.name, this.#deps.config());
    if (!rt.identity.read) return;
    const entry: CardEntry = { insertionId: randomUUID(), insertedAt: this.#deps.clock.now(), removal: new AbortController(), cardType: 'unknown', state: 'reading' };
    rt.card = entry;
    void this.#after(rt, () => this.#read(rt, entry, { announce: true, resetFirst: false, startedAt: entry.insertedAt }));
  }

  #cardRemoved(rt: ReaderRuntime): void {
    rt.present = false;
    const entry = rt.card;
    rt.card = undefined;
    if (!entry) return;
    entry.removal.abort();
    void this.#after(rt, () => this.#sink?.emit('card.removed', { ...refOf(rt.identity), insertionId: entry.insertionId }));
  }

  async #read(rt: ReaderRuntime, entry: CardEntry, opts: { announce: boolean; resetFirst: boolean; startedAt: number }): Promise<SessionOutcome> {
    const sink = this.#sink;
    const config = this.#deps.config();
    if (!sink || entry.removal.signal.aborted) {
      return { kind: 'error', cardType: entry.cardType, code: 'card-removed', message: 'the card was removed before it could be read' };
    }
    const apduMode = rt.identity.apduMode === 'auto' && rt.shortOnly ? 'short' : rt.identity.apduMode;
    entry.state = 'reading';
    const outcome = await runCardSession({
      openContext: () => this.#deps.driver.establish(),
      readerName: rt.name,
      terminal: refOf(rt.identity),
      insertionId: entry.insertionId,
      apduMode,
      retries: config.retries,
      apduTimeoutMs: config.apduTimeoutMs,
      removalGraceMs: config.removalGraceMs,
      removal: entry.removal.signal,
      announce: opts.announce,
      resetFirst: opts.resetFirst,
      clock: this.#deps.clock,
      log: this.#deps.log,
      sink,
      today: () => localIsoDate(this.#deps.clock.now()),
      startedAt: opts.startedAt,
      onDetected: (type) => {
        entry.cardType = type;
      },
    });
    entry.cardType = outcome.cardType;
    entry.state = outcome.kind;
    if (outcome.kind === 'read') {
      this.#stats.reads += 1;
      this.#stats.lastReadMs = outcome.readMs;
      if (outcome.extendedLength === false) rt.shortOnly = true;
      delete entry.code;
    } else {
      this.#stats.errors += 1;
      entry.code = outcome.code;
    }
    return outcome;
  }

  /** `card.read` command: read the inserted card again (after any read in progress). */
  async reread(terminalId: string): Promise<Record<string, unknown>> {
    const rt = [...this.#readers.values()].find((r) => identifyReader(r.name, this.#deps.config()).id === terminalId);
    if (!rt) throw new PraxisboxError(ErrorCode.NotFound, `terminal ${terminalId} is not connected`);
    const entry = rt.card;
    if (!rt.present || !entry) throw new PraxisboxError(ErrorCode.CommandRejected, `no card in terminal ${terminalId}`);
    rt.identity = identifyReader(rt.name, this.#deps.config());
    let outcome: SessionOutcome | undefined;
    const startedAt = this.#deps.clock.now();
    await this.#after(rt, async () => {
      outcome = await this.#read(rt, entry, { announce: false, resetFirst: true, startedAt });
    });
    if (!outcome) throw new PraxisboxError(ErrorCode.Internal, 'card read did not run');
    const result = outcome;
    return {
      terminalId,
      insertionId: entry.insertionId,
      result: result.kind,
      cardType: result.cardType,
      ...(result.kind === 'error' ? { code: result.code, message: result.message } : { readMs: result.readMs }),
    };
  }

  terminals(): TerminalView[] {
    const snapshots: ReaderSnapshot[] = [...this.#readers.values()].map((r) => {
      const s: ReaderSnapshot = { readerName: r.name, cardPresent: r.present };
      if (r.card) {
        s.card = { insertionId: r.card.insertionId, cardType: r.card.cardType, state: r.card.state, insertedAt: new Date(r.card.insertedAt).toISOString() };
        if (r.card.code !== undefined) s.card.code = r.card.code;
      }
      return s;
    });
    return terminalViews(this.#deps.config(), snapshots);
  }

  status(): Record<string, unknown> {
    const service = this.#monitor?.service ?? { state: 'stopped' };
    const views = this.terminals();
    return {
      service: service.state,
      ...(service.state === 'down' ? { serviceReason: service.reason } : {}),
      readers: this.#readers.size,
      terminals: { configured: views.filter((v) => v.configured).length, connected: views.filter((v) => v.connected).length, unassigned: views.filter((v) => !v.configured).length },
      reads: this.#stats.reads,
      readErrors: this.#stats.errors,
      ...(this.#stats.lastReadMs !== undefined ? { lastReadMs: this.#stats.lastReadMs } : {}),
      eventsWaiting: this.#sink?.pending ?? 0,
      eventsDropped: this.#sink?.dropped ?? 0,
      usbHints: this.#usb !== undefined,
    };
  }

  healthcheck(): HealthReport {
    const service = this.#monitor?.service;
    if (!service || service.state === 'stopped') return { level: 'degraded', reason: 'card terminals are not monitored' };
    if (service.state === 'down') return { level: 'degraded', reason: service.reason };
    if ((this.#sink?.dropped ?? 0) > 0) return { level: 'degraded', reason: 'card events were dropped while the outbox refused them' };
    const missing = this.terminals().filter((v) => v.configured && v.source === 'pcsc' && !v.connected).map((v) => v.id);
    if (missing.length > 0) return { level: 'degraded', reason: `card terminal(s) not connected: ${missing.join(', ')}` };
    return { level: 'ok' };
  }

  commands(): CommandTable {
    return {
      'terminals.list': {
        description: 'Card terminals: configured ones, connected readers nobody assigned yet, and the card state of each (no card data)',
        handler: async () => ({ service: this.#monitor?.service.state ?? 'stopped', terminals: this.terminals() }),
      },
      'card.read': {
        description: 'Read the card in a terminal again; the data arrives as a card.read (or card.error) event',
        args: Type.Object({ terminalId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        handler: async (args) => {
          const terminalId = typeof args === 'object' && args !== null ? Reflect.get(args, 'terminalId') : undefined;
          if (typeof terminalId !== 'string') throw new PraxisboxError(ErrorCode.InvalidInput, 'terminalId missing');
          return this.reread(terminalId);
        },
      },
    };
  }
}
