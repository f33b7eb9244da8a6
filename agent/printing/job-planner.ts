import { backoffDelay } from '../core/clock.js';
import type { JobStatus } from './ipp-client.js';
import { hasMarker, isTerminal, type FailureCode, type PrintJobRecord } from './print-job.js';
import { PrintError, type PrintFailure } from './print-error.js';

/**
 * The print queue's decisions, pure: given a job record (and the printer's answer) what happens
 * next. The runner (print-queue.ts) only performs the step and stores the record this returns.
 *
 * The one rule everything here serves: a job is never sent twice to a printer that may already
 * have it. Print-Job is preceded by a durable `handoff` mark and followed by a durable printer job
 * id; a job with a mark but no id (a crash during the upload, or a timeout after the whole
 * document went out) is looked up among the printer's jobs by its marker before anything else.
 */

export interface QueuePolicy {
  retryBaseMs: number;
  retryMaxMs: number;
  pollMs: number;
  followMs: number;
  random?: () => number;
}

export type Step =
  | { kind: 'none' }
  | { kind: 'wait'; until: number }
  | { kind: 'send' }
  | { kind: 'lookup' }
  | { kind: 'poll'; printerJobId: number }
  | { kind: 'cancel-remote'; printerJobId: number }
  | { kind: 'end'; job: PrintJobRecord };

/** What a failed request tells the planner; taken from a PrintError (or any error: unknown → not retryable). */
export interface RequestFailure {
  reason: PrintFailure | 'other';
  retryable: boolean;
  /** The whole request had been written (PrintError.requestComplete). */
  requestComplete: boolean;
  /** The printer answered with an IPP status (so it certainly did not create the job on error). */
  answered: boolean;
  message: string;
}

const finish = (job: PrintJobRecord, now: number, state: 'completed' | 'failed' | 'canceled', failure?: FailureCode, reason?: string): PrintJobRecord => {
  const { handoff: _handoff, ...rest } = job;
  return {
    ...rest,
    state,
    finishedAt: now,
    ...(failure !== undefined ? { failure } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
};

const retryDelay = (attempt: number, policy: QueuePolicy): number => backoffDelay(Math.max(0, attempt - 1), policy.retryBaseMs, policy.retryMaxMs, policy.random);

/** The next step for a job at `now`. `end` carries the finished record (deadline, canceled before sending). */
export function nextStep(job: PrintJobRecord, now: number, policy: QueuePolicy): Step {
  if (isTerminal(job.state)) return { kind: 'none' };
  if (job.printerJobId !== undefined) {
    if (job.cancelRequested && !job.cancelSent) return { kind: 'cancel-remote', printerJobId: job.printerJobId };
    if (now - (job.handedOverAt ?? job.acceptedAt) > policy.followMs) {
      return { kind: 'end', job: finish(job, now, 'failed', 'no-end', `the printer did not report the end of job ${job.printerJobId}; check the printout`) };
    }
    if (now < job.nextAttemptAt) return { kind: 'wait', until: job.nextAttemptAt };
    return { kind: 'poll', printerJobId: job.printerJobId };
  }
  if (job.handoff) {
    // Maybe handed over: only the printer's job list can tell. Cancel waits for the answer.
    if (now - job.handoff.at > policy.followMs) {
      return { kind: 'end', job: finish(job, now, 'failed', 'uncertain', 'could not find out whether the printer took the job; check the printout') };
    }
    if (now < job.nextAttemptAt) return { kind: 'wait', until: job.nextAttemptAt };
    return { kind: 'lookup' };
  }
  if (job.cancelRequested) return { kind: 'end', job: finish(job, now, 'canceled', undefined, 'canceled before it was sent') };
  if (now >= job.deadlineAt) {
    return { kind: 'end', job: finish(job, now, 'failed', 'deadline', `not printed before the deadline${job.lastError ? `: ${job.lastError}` : ''}`) };
  }
  if (now < job.nextAttemptAt) return { kind: 'wait', until: job.nextAttemptAt };
  return { kind: 'send' };
}

/** Stored before Print-Job starts. */
export function beforeSend(job: PrintJobRecord, now: number): PrintJobRecord {
  return { ...job, state: 'sending', attempts: job.attempts + 1, handoff: { at: now, uncertain: false, lookups: 0 } };
}

/** The printer took the job (Print-Job answered successful-ok with a job id). */
export function afterSent(job: PrintJobRecord, submitted: JobStatus, now: number, policy: QueuePolicy): PrintJobRecord {
  const { handoff, lastError: _lastError, ...rest } = job;
  const handed: PrintJobRecord = { ...rest, printerJobId: submitted.jobId, handedOverAt: handoff?.at ?? now, followErrors: 0 };
  return afterPoll(handed, submitted, now, policy);
}

export function afterSendFailed(job: PrintJobRecord, failure: RequestFailure, now: number, policy: QueuePolicy): PrintJobRecord {
  if (failure.requestComplete && !failure.answered) {
    // The whole document went out and no answer came (timeout, reset): the printer may have it.
    return { ...job, state: 'sending', handoff: { at: job.handoff?.at ?? now, uncertain: true, lookups: 0 }, nextAttemptAt: now + retryDelay(1, policy), lastError: failure.message };
  }
  const { handoff: _handoff, ...rest } = job;
  if (failure.reason === 'aborted') {
    // We stopped it (agent stopping, module restart) before the printer had the whole request: no penalty.
    return { ...rest, state: 'queued', attempts: Math.max(0, job.attempts - 1), nextAttemptAt: now };
  }
  if (failure.reason === 'document-unreadable') return finish(job, now, 'failed', 'document', 'the spooled document could not be read');
  if (!failure.retryable) return finish(job, now, 'failed', 'refused', failure.message);
  return { ...rest, state: 'queued', nextAttemptAt: Math.min(job.deadlineAt, now + retryDelay(job.attempts, policy)), lastError: failure.message };
}

/**
 * The answer of Get-Jobs after an uncertain handoff. Found (by marker) → followed from now on.
 * Not found → the printer never took it (it lists the jobs it has and had), so it is sent again.
 */
export function afterLookup(job: PrintJobRecord, jobs: readonly JobStatus[], now: number, policy: QueuePolicy): PrintJobRecord {
  const ours = jobs.find((j) => j.jobName !== undefined && hasMarker(j.jobName.reveal(), job.marker));
  if (ours) return afterSent(job, ours, now, policy);
  const { handoff: _handoff, ...rest } = job;
  if (now >= job.deadlineAt) return finish(job, now, 'failed', 'deadline', `not printed before the deadline${job.lastError ? `: ${job.lastError}` : ''}`);
  return { ...rest, state: 'queued', nextAttemptAt: now };
}

export function afterLookupFailed(job: PrintJobRecord, failure: RequestFailure, now: number, policy: QueuePolicy): PrintJobRecord {
  const lookups = (job.handoff?.lookups ?? 0) + 1;
  if (!failure.retryable && failure.answered) {
    // The printer answered but cannot list its jobs (Get-Jobs unsupported or refused): sending again could print twice.
    return finish(job, now, 'failed', 'uncertain', `the printer cannot list its jobs (${failure.message}), so whether it took this one is unknown; check the printout`);
  }
  return {
    ...job,
    state: 'sending',
    handoff: { at: job.handoff?.at ?? now, uncertain: true, lookups },
    nextAttemptAt: now + retryDelay(lookups, policy),
    lastError: failure.message,
  };
}

/** A Get-Job-Attributes answer (or the Print-Job answer) for a handed-over job. */
export function afterPoll(job: PrintJobRecord, status: JobStatus, now: number, policy: QueuePolicy): PrintJobRecord {
  if (status.jobName !== undefined && !hasMarker(status.jobName.reveal(), job.marker)) {
    // The id now names another job: the printer restarted and counts from 1 again.
    return lost(job, now);
  }
  const base: PrintJobRecord = { ...job, printerJobState: status.state, printerJobReasons: status.reasons, followErrors: 0 };
  const reasons = status.reasons.length > 0 ? ` (${status.reasons.join(', ')})` : '';
  switch (status.state) {
    case 'completed':
      return finish(base, now, 'completed');
    case 'canceled':
      return finish(base, now, 'canceled', undefined, job.cancelRequested ? 'canceled on request' : `canceled at the printer${reasons}`);
    case 'aborted':
      return finish(base, now, 'failed', 'aborted', `the printer aborted the job${reasons}`);
    default:
      return { ...base, state: 'processing', nextAttemptAt: now + policy.pollMs };
  }
}

export function afterPollFailed(job: PrintJobRecord, failure: RequestFailure, now: number, policy: QueuePolicy): PrintJobRecord {
  if (failure.reason === 'job-not-found') return lost(job, now);
  // Anything else (unreachable, busy, even credentials changed): the printer still has the job; keep asking.
  const followErrors = job.followErrors + 1;
  return { ...job, followErrors, nextAttemptAt: now + Math.max(policy.pollMs, retryDelay(followErrors, policy)), lastError: failure.message };
}

export function afterCancelSent(job: PrintJobRecord, failure: RequestFailure | undefined, now: number, policy: QueuePolicy): PrintJobRecord {
  if (failure?.reason === 'job-not-found') return lost(job, now);
  if (failure?.retryable) return { ...job, nextAttemptAt: now + retryDelay(job.followErrors + 1, policy), followErrors: job.followErrors + 1 };
  // Done, or refused (a job that already completed cannot be canceled): the next poll tells the end.
  return { ...job, cancelSent: true, nextAttemptAt: now };
}

function lost(job: PrintJobRecord, now: number): PrintJobRecord {
  return finish(job, now, 'failed', 'lost', `the printer no longer knows job ${job.printerJobId ?? '?'} (restarted?); it may have printed — check before printing again`);
}

/** A PrintError (or anything thrown) as the planner sees it. */
export function requestFailure(err: unknown): RequestFailure {
  if (err instanceof PrintError) {
    // An IPP status or an HTTP status is a definite answer; a malformed body is not (the printer may have acted on the request).
    const answered = err.ippStatus !== undefined || typeof err.details?.['httpStatus'] === 'number';
    return { reason: err.reason, retryable: err.retryable, requestComplete: err.requestComplete, answered, message: err.message };
  }
  return { reason: 'other', retryable: false, requestComplete: false, answered: false, message: 'internal error while printing (see the box log)' };
}
