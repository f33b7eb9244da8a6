import type { PrintTicket } from './print-ticket.js';

/**
 * A job of the durable print queue as it is stored (one 0600 JSON file per job) and reported.
 * The record is the queue's memory across restarts: what was accepted, whether it was handed to
 * the printer and under which printer job id — so a restart follows a handed-over job instead of
 * sending it again.
 */

/** What `print.job` events and `print.jobs` report. Terminal: completed, failed, canceled. */
export type JobState = 'queued' | 'sending' | 'processing' | 'completed' | 'failed' | 'canceled';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'canceled']);
export const isTerminal = (state: JobState): boolean => TERMINAL_STATES.has(state);

/** Why a job ended failed: stable codes for the cloud, the `reason` text for people. */
export type FailureCode =
  | 'deadline' // retried until the configured deadline (busy, offline, unreachable)
  | 'refused' // the printer or its configuration refused it (no PDF, tray, credentials, certificate)
  | 'aborted' // the printer aborted it (job-state aborted)
  | 'lost' // the printer no longer knows a job it had taken (restarted): not resent, it may have printed
  | 'uncertain' // the printer cannot say whether it took the job: not resent, it may have printed
  | 'no-end' // the printer never reported an end within followHours
  | 'document' // the spooled document is missing or unreadable
  | 'printer-removed'; // its printer is no longer configured

export interface PrintJobRecord {
  v: 1;
  id: string;
  /** Put in front of the IPP job-name: identifies our job among the printer's (Get-Jobs, id reuse after a printer restart). */
  marker: string;
  docType: string;
  printerId: string;
  ticket: PrintTicket;
  /** From the command; may identify a patient: stored (0600) and sent to the printer, never logged or put in events. */
  jobName?: string;
  /** The caller's idempotency key (e.g. the cloud command id): the same key again returns this job. */
  requestId?: string;
  size: number;
  sha256: string;
  acceptedAt: number;
  deadlineAt: number;
  state: JobState;
  /** Print-Job requests started. */
  attempts: number;
  /** The next step (send, look up, poll) is due then. */
  nextAttemptAt: number;
  /** The last retryable problem (no patient data): becomes the reason when the deadline passes. */
  lastError?: string;
  /** Written durably BEFORE Print-Job starts: after a crash it means "maybe handed over". */
  handoff?: { at: number; uncertain: boolean; lookups: number };
  /** Written durably AFTER Print-Job answered: from then on the job is only followed, never resent. */
  printerJobId?: number;
  handedOverAt?: number;
  printerJobState?: string;
  printerJobReasons?: string[];
  followErrors: number;
  cancelRequested?: boolean;
  cancelSent?: boolean;
  failure?: FailureCode;
  /** Human-readable end reason (failed, canceled): printer-side terms only. */
  reason?: string;
  finishedAt?: number;
  /** A test page (print.test). */
  test?: boolean;
}

/** The payload of a `print.job` event: no job name, no document. */
export interface PrintJobEvent {
  jobId: string;
  docType: string;
  printerId: string;
  state: JobState;
  attempts: number;
  printerJobId?: number;
  failure?: FailureCode;
  reason?: string;
  /** While queued for a retry: why the last attempt did not go through. */
  lastError?: string;
  requestId?: string;
  test?: boolean;
  ts: string;
}

export function jobEvent(job: PrintJobRecord, now: number): PrintJobEvent {
  return {
    jobId: job.id,
    docType: job.docType,
    printerId: job.printerId,
    state: job.state,
    attempts: job.attempts,
    ...(job.printerJobId !== undefined ? { printerJobId: job.printerJobId } : {}),
    ...(job.failure !== undefined ? { failure: job.failure } : {}),
    ...(job.reason !== undefined ? { reason: job.reason } : {}),
    ...(job.lastError !== undefined && !isTerminal(job.state) ? { lastError: job.lastError } : {}),
    ...(job.requestId !== undefined ? { requestId: job.requestId } : {}),
    ...(job.test ? { test: true } : {}),
    ts: new Date(now).toISOString(),
  };
}

/** What print.jobs and print.cancel reply: the event view plus timing. */
export function jobView(job: PrintJobRecord): Record<string, unknown> {
  return {
    jobId: job.id,
    docType: job.docType,
    printerId: job.printerId,
    state: job.state,
    attempts: job.attempts,
    size: job.size,
    acceptedAt: new Date(job.acceptedAt).toISOString(),
    ...(job.printerJobId !== undefined ? { printerJobId: job.printerJobId } : {}),
    ...(job.printerJobState !== undefined ? { printerJobState: job.printerJobState, printerJobReasons: job.printerJobReasons ?? [] } : {}),
    ...(job.lastError !== undefined && !isTerminal(job.state) ? { lastError: job.lastError } : {}),
    ...(job.failure !== undefined ? { failure: job.failure } : {}),
    ...(job.reason !== undefined ? { reason: job.reason } : {}),
    ...(job.finishedAt !== undefined ? { finishedAt: new Date(job.finishedAt).toISOString() } : {}),
    ...(job.requestId !== undefined ? { requestId: job.requestId } : {}),
  };
}

/** The IPP job-name: the marker first (printers cut long names from the end), then the caller's name. */
export function ippJobName(job: PrintJobRecord): string {
  return job.jobName !== undefined && job.jobName !== '' ? `${job.marker} ${job.jobName}` : `${job.marker} ${job.docType}`;
}

export function hasMarker(ippName: string, marker: string): boolean {
  return ippName === marker || ippName.startsWith(`${marker} `);
}
