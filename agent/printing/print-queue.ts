import { ulid } from 'ulid';
import type { Clock, Timer } from '../core/clock.js';
import { describeError, ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { patientData } from '../core/patient-data.js';
import type { IppClient } from './ipp-client.js';
import {
  afterCancelSent,
  afterLookup,
  afterLookupFailed,
  afterPoll,
  afterPollFailed,
  afterSendFailed,
  afterSent,
  beforeSend,
  nextStep,
  requestFailure,
  type QueuePolicy,
  type Step,
} from './job-planner.js';
import type { JobStore } from './job-store.js';
import { ippJobName, isTerminal, jobEvent, type PrintJobEvent, type PrintJobRecord } from './print-job.js';
import type { PrintTicket } from './print-ticket.js';

/**
 * The durable print queue's I/O shell: accepts jobs onto disk, then one worker per printer sends
 * them in order (one at a time: a printer answers a second job with server-error-busy anyway, and
 * labels must come out in order) and follows each until the printer reports its end. Every
 * decision is job-planner.ts's; this file performs steps, stores records and emits events.
 */

/** The part of IppClient the queue uses (tests may stand in). */
export type JobPrinter = Pick<IppClient, 'printJob' | 'getJob' | 'getJobs' | 'cancelJob'>;

export interface PrintQueueDeps {
  store: JobStore;
  /** The printer a job goes to, from the current configuration; undefined = no longer configured. */
  printer: (printerId: string) => JobPrinter | undefined;
  /** Appends a `print.job` event durably (the outbox). */
  emit: (event: PrintJobEvent) => Promise<void>;
  policy: () => QueuePolicy & { deadlineMs: number };
  clock: Clock;
  log: Logger;
}

export interface SubmitInput {
  docType: string;
  printerId: string;
  ticket: PrintTicket;
  document: Buffer;
  jobName?: string;
  requestId?: string;
  test?: boolean;
}

interface Worker {
  kick: () => void;
  done: Promise<void>;
}

export class PrintQueue {
  readonly #deps: PrintQueueDeps;
  readonly #workers = new Map<string, Worker>();
  #abort = new AbortController();
  #running = false;

  constructor(deps: PrintQueueDeps) {
    this.#deps = deps;
  }

  /** Starts a worker for every printer with unfinished jobs (after a restart: follows, looks up or sends them). */
  start(): void {
    this.#abort = new AbortController();
    this.#running = true;
    for (const job of this.#deps.store.all()) if (!isTerminal(job.state)) this.#ensureWorker(job.printerId);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort(new Error('print queue stopping'));
    const done = [...this.#workers.values()].map((w) => w.done);
    this.#workers.clear();
    await Promise.allSettled(done);
  }

  /** Accepts a job: the document and the record are durable before this resolves. */
  async submit(input: SubmitInput): Promise<PrintJobRecord> {
    if (input.requestId !== undefined) {
      const existing = this.#deps.store.byRequestId(input.requestId);
      if (existing) return existing;
    }
    const now = this.#deps.clock.now();
    const id = ulid(now);
    const { size, sha256 } = await this.#deps.store.writeSpool(id, input.document);
    const record: PrintJobRecord = {
      v: 1,
      id,
      // The random tail of the ULID: unique among the printer's jobs, short on its panel.
      marker: `PBX-${id.slice(-8)}`,
      docType: input.docType,
      printerId: input.printerId,
      ticket: input.ticket,
      ...(input.jobName !== undefined && input.jobName !== '' ? { jobName: input.jobName } : {}),
      ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
      size,
      sha256,
      acceptedAt: now,
      deadlineAt: now + this.#deps.policy().deadlineMs,
      state: 'queued',
      attempts: 0,
      nextAttemptAt: now,
      followErrors: 0,
      ...(input.test ? { test: true } : {}),
    };
    await this.#deps.store.create(record);
    this.#deps.log.info({ jobId: id, docType: record.docType, printerId: record.printerId, bytes: size }, `print job ${id} queued`);
    await this.#emit(record);
    if (this.#running) this.#ensureWorker(record.printerId);
    return record;
  }

  /** Asks for a job's end: at once when it has not been sent, else through Cancel-Job at the printer. */
  async cancel(jobId: string): Promise<PrintJobRecord> {
    const job = this.#deps.store.get(jobId);
    if (!job) throw new PraxisboxError(ErrorCode.NotFound, 'no print job with this id');
    if (isTerminal(job.state)) throw new PraxisboxError(ErrorCode.CommandRejected, `print job already ${job.state}`);
    const updated = await this.#deps.store.update(jobId, (j) => (isTerminal(j.state) ? j : { ...j, cancelRequested: true }));
    this.#workers.get(updated.printerId)?.kick();
    return updated;
  }

  #ensureWorker(printerId: string): void {
    const existing = this.#workers.get(printerId);
    if (existing) {
      existing.kick();
      return;
    }
    let wake: (() => void) | undefined;
    let kicked = false;
    const worker: Worker = {
      kick: () => {
        kicked = true;
        wake?.();
      },
      done: Promise.resolve(),
    };
    const signal = this.#abort.signal;
    const pause = (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        if (kicked || signal.aborted) {
          kicked = false;
          resolve();
          return;
        }
        const finish = (): void => {
          this.#deps.clock.clearTimeout(timer);
          signal.removeEventListener('abort', finish);
          wake = undefined;
          kicked = false;
          resolve();
        };
        wake = finish;
        signal.addEventListener('abort', finish, { once: true });
        const timer: Timer = this.#deps.clock.setTimeout(finish, Math.max(0, ms));
      });
    worker.done = this.#runWorker(printerId, pause, signal).catch((err: unknown) => {
      this.#deps.log.error({ printerId, err }, `print worker for ${printerId} failed: ${describeError(err)}`);
    }).finally(() => {
      if (this.#workers.get(printerId) === worker) this.#workers.delete(printerId);
      // Jobs that arrived while the worker was ending get a new one.
      if (this.#running && this.#deps.store.all().some((j) => j.printerId === printerId && !isTerminal(j.state))) this.#ensureWorker(printerId);
    });
    this.#workers.set(printerId, worker);
  }

  async #runWorker(printerId: string, pause: (ms: number) => Promise<void>, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const jobs = this.#deps.store.all().filter((j) => j.printerId === printerId && !isTerminal(j.state));
      if (jobs.length === 0) return;
      const now = this.#deps.clock.now();
      const policy = this.#deps.policy();
      // Cancels of jobs that never left the box are done at once, whatever is at the head.
      const localCancel = jobs.find((j) => j.cancelRequested && j.printerJobId === undefined && j.handoff === undefined);
      const job = localCancel ?? jobs[0];
      if (!job) return;
      const step = nextStep(job, now, policy);
      if (step.kind === 'wait') {
        await pause(step.until - now);
        continue;
      }
      await this.#perform(job, step, printerId, signal);
    }
  }

  async #perform(job: PrintJobRecord, step: Step, printerId: string, signal: AbortSignal): Promise<void> {
    const { clock } = this.#deps;
    const policy = this.#deps.policy();
    if (step.kind === 'end') {
      await this.#store(job, () => step.job);
      return;
    }
    if (step.kind === 'none' || step.kind === 'wait') return;
    const printer = this.#deps.printer(printerId);
    if (!printer) {
      await this.#store(job, (j) => ({ ...j, state: 'failed', failure: 'printer-removed', reason: `printer ${printerId} is no longer configured`, finishedAt: clock.now() }));
      return;
    }
    switch (step.kind) {
      case 'send': {
        const sending = await this.#store(job, (j) => beforeSend(j, clock.now()));
        try {
          const submitted = await printer.printJob({
            document: { path: this.#deps.store.spoolPath(job.id) },
            ticket: sending.ticket,
            jobName: patientData(ippJobName(sending)),
            signal,
          });
          await this.#store(sending, (j) => afterSent(j, submitted, clock.now(), policy));
        } catch (err) {
          const failure = requestFailure(err);
          if (failure.reason === 'other') this.#deps.log.error({ jobId: job.id, err }, 'print job send failed unexpectedly');
          await this.#store(sending, (j) => afterSendFailed(j, failure, clock.now(), policy));
        }
        return;
      }
      case 'lookup':
        try {
          const jobs = await printer.getJobs({ signal });
          await this.#store(job, (j) => afterLookup(j, jobs, clock.now(), policy));
        } catch (err) {
          if (signal.aborted) return;
          await this.#store(job, (j) => afterLookupFailed(j, requestFailure(err), clock.now(), policy));
        }
        return;
      case 'poll':
        try {
          const status = await printer.getJob(step.printerJobId, signal);
          await this.#store(job, (j) => afterPoll(j, status, clock.now(), policy));
        } catch (err) {
          if (signal.aborted) return;
          await this.#store(job, (j) => afterPollFailed(j, requestFailure(err), clock.now(), policy));
        }
        return;
      case 'cancel-remote':
        try {
          await printer.cancelJob(step.printerJobId, signal);
          await this.#store(job, (j) => afterCancelSent(j, undefined, clock.now(), policy));
        } catch (err) {
          if (signal.aborted) return;
          await this.#store(job, (j) => afterCancelSent(j, requestFailure(err), clock.now(), policy));
        }
        return;
    }
  }

  /** Stores a step's result and reports a changed state (log line and event). */
  async #store(before: PrintJobRecord, change: (j: PrintJobRecord) => PrintJobRecord): Promise<PrintJobRecord> {
    const after = await this.#deps.store.update(before.id, change);
    if (after.state !== before.state) {
      const level = after.state === 'failed' ? 'warn' : 'info';
      this.#deps.log[level](
        { jobId: after.id, docType: after.docType, printerId: after.printerId, state: after.state, printerJobId: after.printerJobId, failure: after.failure },
        `print job ${after.id} ${after.state}${after.reason ? `: ${after.reason}` : ''}${after.state === 'queued' && after.lastError ? ` again (retry in ${Math.max(0, after.nextAttemptAt - this.#deps.clock.now())} ms: ${after.lastError})` : ''}`,
      );
      await this.#emit(after);
    }
    return after;
  }

  async #emit(job: PrintJobRecord): Promise<void> {
    try {
      await this.#deps.emit(jobEvent(job, this.#deps.clock.now()));
    } catch (err) {
      this.#deps.log.error({ jobId: job.id, state: job.state, err }, `print.job event could not be stored: ${describeError(err)}`);
    }
  }
}
