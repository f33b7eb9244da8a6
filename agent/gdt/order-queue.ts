import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ErrorCode, PraxisboxError, notFound } from '../core/errors.js';
import { readIfExists, syncDir, writeFileDurable } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import { writeGdt } from './codec/index.js';
import type { DeviceLayout } from './device-layout.js';
import type { GdtDeviceConfig } from './gdt-config.js';
import { currentOrder, MAX_OPEN_ORDERS, type OpenOrder } from './order-match.js';
import { nextOrderFile, orderRecord, type OrderKind, type OrderPatient } from './order-plan.js';

/**
 * The files the box owes a device (orders, cancellations, master data), kept durably in the box's
 * state directory until they are in the device's order folder. Writing a file: temp file in the
 * same folder, fsync, note "writing" durably, hard-link to the final name (a link never replaces an
 * existing file, unlike rename), remove the temp file, note "written". A kill -9 between any two
 * steps is finished at the next pump: a temp file still there is linked (or was), a missing one
 * means the file went out. With fixed naming an order waits while the previous file is unconsumed.
 */
export interface QueuedFile {
  entryId: string;
  kind: OrderKind;
  orderId?: string;
  testCode?: string;
  patient?: OrderPatient;
  /** Registry key of the 6300 this 6301 answers. */
  source?: string;
  /** The GDT bytes, base64 (rendered when accepted, so a refused character fails the command, not the pump). */
  bytes: string;
  createdAt: number;
  writing?: { tmp: string; target: string; counter: number };
}

export interface StoredOrder extends OpenOrder {
  patient: OrderPatient;
  file: string;
}

interface RecentFile {
  entryId: string;
  kind: OrderKind;
  orderId?: string;
  source?: string;
  state: 'written' | 'removed';
  file?: string;
  at: number;
}

interface OrderState {
  version: 1;
  counter: number;
  queue: QueuedFile[];
  open: StoredOrder[];
  recent: RecentFile[];
}

const MAX_RECENT = 200;

export interface OrderQueueDeps {
  file: string;
  layout: DeviceLayout;
  device: GdtDeviceConfig;
  now: () => number;
  log: Logger;
}

export type OrderStatus = 'queued' | 'written' | 'removed' | 'cancel-queued' | 'cancel-written' | 'cancelled';

export interface PumpResult {
  written: string[];
  /** Why the head of the queue is not written yet. */
  waiting?: 'previous-unconsumed' | 'all-counters-taken';
}

export class OrderQueue {
  readonly #deps: OrderQueueDeps;
  #state: OrderState = { version: 1, counter: 0, queue: [], open: [], recent: [] };
  #serial: Promise<unknown> = Promise.resolve();
  #waiting: PumpResult['waiting'];

  private constructor(deps: OrderQueueDeps) {
    this.#deps = deps;
  }

  static async open(deps: OrderQueueDeps): Promise<OrderQueue> {
    const queue = new OrderQueue(deps);
    const buf = await readIfExists(deps.file);
    if (buf !== undefined) {
      try {
        queue.#state = parseState(JSON.parse(buf.toString('utf8')));
      } catch {
        throw new PraxisboxError(ErrorCode.Corrupt, `order state file ${path.basename(deps.file)} is unreadable; fix or remove it by hand`);
      }
    }
    return queue;
  }

  get queued(): number {
    return this.#state.queue.length;
  }

  get waiting(): PumpResult['waiting'] {
    return this.#state.queue.length === 0 ? undefined : this.#waiting;
  }

  openOrders(): readonly StoredOrder[] {
    return this.#state.open;
  }

  current(): StoredOrder | undefined {
    return currentOrder(this.#state.open);
  }

  hasSource(source: string): boolean {
    return this.#state.queue.some((q) => q.source === source) || this.#state.recent.some((r) => r.source === source);
  }

  /** Summary without patient data (for `gdt.devices.list`). */
  view(): Record<string, unknown> {
    const current = this.current();
    return {
      queued: this.#state.queue.map((q) => ({ kind: q.kind, ...(q.orderId !== undefined ? { orderId: q.orderId } : {}), since: new Date(q.createdAt).toISOString() })),
      ...(this.waiting !== undefined ? { waiting: this.waiting } : {}),
      openOrders: this.#state.open.length,
      ...(current !== undefined ? { currentOrder: { orderId: current.orderId, testCode: current.testCode, writtenAt: new Date(current.writtenAt).toISOString() } } : {}),
    };
  }

  /** Accepts an order (idempotent per order id) and stores it durably before returning. */
  enqueueOrder(order: { orderId: string; testCode: string; patient: OrderPatient; comment?: string }): Promise<{ status: OrderStatus }> {
    return this.#run(async () => {
      const known = this.#orderStatus(order.orderId);
      if (known !== undefined) return { status: known };
      const bytes = this.#render({ kind: 'order', patient: order.patient, testCode: order.testCode, orderId: order.orderId, ...(order.comment !== undefined ? { comment: order.comment } : {}) });
      this.#state.queue.push({ entryId: newId(), kind: 'order', orderId: order.orderId, testCode: order.testCode, patient: order.patient, bytes, createdAt: this.#deps.now() });
      await this.#save();
      return { status: 'queued' };
    });
  }

  /** A 6301 for the device's current order, ahead of waiting orders (the device is waiting for it now). */
  enqueueMasterData(patient: OrderPatient, source: string): Promise<void> {
    return this.#run(async () => {
      if (this.hasSource(source)) return;
      const bytes = this.#render({ kind: 'master-data', patient });
      const head = this.#state.queue[0]?.writing !== undefined ? 1 : 0;
      this.#state.queue.splice(head, 0, { entryId: newId(), kind: 'master-data', source, bytes, createdAt: this.#deps.now() });
      await this.#save();
    });
  }

  /** Drops a queued order, or queues a 6303 for a written one. */
  cancel(orderId: string): Promise<{ status: OrderStatus }> {
    return this.#run(async () => {
      const pendingCancel = this.#state.queue.find((q) => q.kind === 'cancel' && q.orderId === orderId);
      if (pendingCancel !== undefined) return { status: 'cancel-queued' };
      const doneCancel = this.#state.recent.find((r) => r.kind === 'cancel' && r.orderId === orderId);
      if (doneCancel !== undefined) return { status: 'cancel-written' };
      const queued = this.#state.queue.findIndex((q) => q.kind === 'order' && q.orderId === orderId && q.writing === undefined);
      if (queued >= 0) {
        const [entry] = this.#state.queue.splice(queued, 1);
        if (entry !== undefined) this.#remember({ entryId: entry.entryId, kind: 'order', orderId, state: 'removed', at: this.#deps.now() });
        await this.#save();
        return { status: 'removed' };
      }
      const open = this.#state.open.find((o) => o.orderId === orderId) ?? this.#writingOrder(orderId);
      if (open === undefined) {
        if (this.#state.recent.some((r) => r.kind === 'order' && r.orderId === orderId && r.state === 'removed')) return { status: 'removed' };
        throw notFound('no open order with this id for this device');
      }
      const bytes = this.#render({ kind: 'cancel', patient: open.patient, testCode: open.testCode, orderId });
      this.#state.queue.push({ entryId: newId(), kind: 'cancel', orderId, testCode: open.testCode, bytes, createdAt: this.#deps.now() });
      this.#state.open = this.#state.open.filter((o) => o.orderId !== orderId);
      await this.#save();
      return { status: 'cancel-queued' };
    });
  }

  /** Orders a result answered are no longer open. */
  resolve(orderIds: readonly string[]): Promise<void> {
    if (orderIds.length === 0) return Promise.resolve();
    return this.#run(async () => {
      const before = this.#state.open.length;
      this.#state.open = this.#state.open.filter((o) => !orderIds.includes(o.orderId));
      if (this.#state.open.length !== before) await this.#save();
    });
  }

  /** Writes queued files into the order folder as far as the naming allows. */
  pump(): Promise<PumpResult> {
    return this.#run(async () => {
      const written: string[] = [];
      for (;;) {
        const head = this.#state.queue[0];
        if (head === undefined) {
          this.#waiting = undefined;
          return { written };
        }
        const outcome = await this.#writeHead(head);
        if (outcome.wait !== undefined) {
          this.#waiting = outcome.wait;
          return { written, waiting: outcome.wait };
        }
        written.push(outcome.file);
      }
    });
  }

  async #writeHead(entry: QueuedFile): Promise<{ file: string; wait?: undefined } | { wait: NonNullable<PumpResult['waiting']> }> {
    const { layout } = this.#deps;
    if (entry.writing === undefined) {
      const names = new Set((await fs.readdir(layout.orderDir)).map((n) => n.toUpperCase()));
      const next = nextOrderFile(this.#deps.device.fileNaming, layout.orderFileBase, names, this.#state.counter);
      if ('wait' in next) return { wait: next.wait };
      const tmp = path.join(layout.orderDir, `.${layout.orderFileBase}.${entry.entryId}.tmp`);
      const fh = await fs.open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(Buffer.from(entry.bytes, 'base64'));
        await fh.sync();
      } finally {
        await fh.close();
      }
      entry.writing = { tmp, target: path.join(layout.orderDir, next.name), counter: next.counter };
      await this.#save();
    }
    const { tmp, target, counter } = entry.writing;
    const linked = await this.#place(tmp, target, entry);
    if (!linked) {
      delete entry.writing;
      await fs.rm(tmp, { force: true });
      await this.#save();
      return { wait: 'previous-unconsumed' };
    }
    this.#finish(entry, path.basename(target), counter);
    await this.#save();
    this.#deps.log.info({ deviceId: layout.id, kind: entry.kind, orderId: entry.orderId, file: path.basename(target) }, `GDT ${entry.kind} file written for device ${layout.id}`);
    return { file: path.basename(target) };
  }

  /** Puts tmp at target without ever replacing a file; false when target is taken by another file. */
  async #place(tmp: string, target: string, entry: QueuedFile): Promise<boolean> {
    let tmpExists = true;
    try {
      await fs.link(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') tmpExists = false;
      else if (code === 'EEXIST') {
        // Ours already (a crash after the link) or someone else's: compare the bytes.
        const existing = await readIfExists(target);
        if (existing === undefined || !existing.equals(Buffer.from(entry.bytes, 'base64'))) return false;
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EXDEV') {
        // Shares without hard links: check, then rename (a tiny window, only against other writers of our name).
        if ((await readIfExists(target)) !== undefined) return false;
        await fs.rename(tmp, target);
        tmpExists = false;
      } else throw err;
    }
    if (tmpExists) await fs.rm(tmp, { force: true });
    await syncDir(path.dirname(target));
    return true;
  }

  #finish(entry: QueuedFile, file: string, counter: number): void {
    const now = this.#deps.now();
    this.#state.queue = this.#state.queue.filter((q) => q.entryId !== entry.entryId);
    this.#state.counter = counter;
    if (entry.kind === 'order' && entry.orderId !== undefined && entry.patient !== undefined) {
      this.#state.open.push({ orderId: entry.orderId, testCode: entry.testCode ?? '', patientNumber: entry.patient.number, patient: entry.patient, writtenAt: now, file });
      if (this.#state.open.length > MAX_OPEN_ORDERS) this.#state.open.splice(0, this.#state.open.length - MAX_OPEN_ORDERS);
    }
    this.#remember({
      entryId: entry.entryId,
      kind: entry.kind,
      ...(entry.orderId !== undefined ? { orderId: entry.orderId } : {}),
      ...(entry.source !== undefined ? { source: entry.source } : {}),
      state: 'written',
      file,
      at: now,
    });
  }

  #remember(r: RecentFile): void {
    this.#state.recent.push(r);
    if (this.#state.recent.length > MAX_RECENT) this.#state.recent.splice(0, this.#state.recent.length - MAX_RECENT);
  }

  #orderStatus(orderId: string): OrderStatus | undefined {
    if (this.#state.queue.some((q) => q.kind === 'cancel' && q.orderId === orderId)) return 'cancelled';
    if (this.#state.recent.some((r) => r.orderId === orderId && (r.kind === 'cancel' || r.state === 'removed'))) return 'cancelled';
    if (this.#state.queue.some((q) => q.kind === 'order' && q.orderId === orderId)) return 'queued';
    if (this.#state.open.some((o) => o.orderId === orderId)) return 'written';
    if (this.#state.recent.some((r) => r.kind === 'order' && r.orderId === orderId)) return 'written';
    return undefined;
  }

  #writingOrder(orderId: string): StoredOrder | undefined {
    const q = this.#state.queue.find((e) => e.kind === 'order' && e.orderId === orderId && e.writing !== undefined);
    if (q?.patient === undefined) return undefined;
    return { orderId, testCode: q.testCode ?? '', patientNumber: q.patient.number, patient: q.patient, writtenAt: q.createdAt, file: '' };
  }

  #render(content: Parameters<typeof orderRecord>[1]): string {
    return writeGdt([orderRecord(this.#deps.device, content)], { charset: this.#deps.device.charset }).toString('base64');
  }

  async #save(): Promise<void> {
    await fs.mkdir(path.dirname(this.#deps.file), { recursive: true, mode: 0o700 });
    await writeFileDurable(this.#deps.file, JSON.stringify(this.#state), 0o600);
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#serial.then(fn, fn);
    this.#serial = result.catch(() => undefined);
    return result;
  }
}

function newId(): string {
  return randomBytes(8).toString('hex');
}

function parseState(value: unknown): OrderState {
  const v = value as Partial<OrderState> | null;
  if (v === null || typeof v !== 'object' || v.version !== 1 || !Array.isArray(v.queue) || !Array.isArray(v.open) || !Array.isArray(v.recent)) {
    throw new Error('not an order state');
  }
  return { version: 1, counter: typeof v.counter === 'number' ? v.counter : 0, queue: v.queue, open: v.open, recent: v.recent };
}
