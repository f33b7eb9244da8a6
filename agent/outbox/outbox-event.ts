/** What the outbox stores and the cloud link publishes as the `evt/{type}` envelope. */
export interface OutboxEvent {
  /** ULID, unique per event; the cloud de-duplicates on it. */
  id: string;
  /** Per-box, strictly increasing across restarts. */
  seq: number;
  type: string;
  /** ISO-8601 time the event was accepted. */
  ts: string;
  data: unknown;
}

/** An undelivered event as stored: metadata plus the envelope's JSON bytes. */
export interface RawOutboxEvent {
  seq: number;
  id: string;
  type: string;
  payload: Buffer;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestSeq?: number;
  oldestTs?: string;
  lastSeq: number;
  segments: number;
  full: boolean;
  waitingProducers: number;
}

export interface AppendOptions {
  /** How long to wait for room when the outbox is full; 0 (default) fails at once with OutboxFull. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** The store's contract; the contract test suite runs against every implementation. */
export interface Outbox {
  /** Resolves once the event is durable on disk (fsynced); only then may the producer forget its input. */
  append(type: string, data: unknown, options?: AppendOptions): Promise<OutboxEvent>;
  /** Unacknowledged events with seq > afterSeq, in seq order, at most `limit`. */
  pending(afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  /** The same events as stored bytes (no parse), for publishing. */
  pendingRaw(afterSeq: number, limit: number): Promise<RawOutboxEvent[]>;
  /** Marks delivered; the event is deleted from disk once its segment is fully acknowledged. */
  ack(seq: number): Promise<void>;
  stats(): OutboxStats;
  close(): Promise<void>;
}
