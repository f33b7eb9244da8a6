import t from 'tap';
import { patientData } from '../../agent/core/patient-data.js';
import type { JobStatus } from '../../agent/printing/ipp-client.js';
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
  type RequestFailure,
} from '../../agent/printing/job-planner.js';
import { PrintError } from '../../agent/printing/print-error.js';
import { hasMarker, ippJobName, jobEvent, type PrintJobRecord } from '../../agent/printing/print-job.js';

const policy: QueuePolicy = { retryBaseMs: 1_000, retryMaxMs: 8_000, pollMs: 500, followMs: 3_600_000, random: () => 1 };
const T0 = 1_700_000_000_000;

function job(over: Partial<PrintJobRecord> = {}): PrintJobRecord {
  return {
    v: 1,
    id: '01HZX3V8Q6W4K2M9N7P5R3T1AB',
    marker: 'PBX-R3T1AB',
    docType: 'au',
    printerId: 'empfang',
    ticket: { tray: 'tray-2', copies: 1 },
    jobName: 'AU Müller',
    size: 1234,
    sha256: 'x',
    acceptedAt: T0,
    deadlineAt: T0 + 60_000,
    state: 'queued',
    attempts: 0,
    nextAttemptAt: T0,
    followErrors: 0,
    ...over,
  };
}

const status = (state: JobStatus['state'], over: Partial<JobStatus> = {}): JobStatus => ({
  jobId: 7,
  state,
  reasons: [],
  terminal: ['completed', 'canceled', 'aborted'].includes(state),
  impressionsCompleted: undefined,
  jobName: patientData('PBX-R3T1AB AU Müller'),
  ...over,
});

const failure = (over: Partial<RequestFailure>): RequestFailure => ({ reason: 'busy', retryable: true, requestComplete: true, answered: true, message: 'printer is busy', ...over });

t.test('nextStep: what a queued job does', async (t) => {
  t.same(nextStep(job(), T0, policy), { kind: 'send' });
  t.same(nextStep(job({ nextAttemptAt: T0 + 5 }), T0, policy), { kind: 'wait', until: T0 + 5 });
  const late = nextStep(job({ lastError: 'printer is not reachable (ECONNREFUSED)' }), T0 + 60_000, policy);
  t.match(late, { kind: 'end', job: { state: 'failed', failure: 'deadline', reason: 'not printed before the deadline: printer is not reachable (ECONNREFUSED)', finishedAt: T0 + 60_000 } });
  t.match(nextStep(job({ cancelRequested: true }), T0, policy), { kind: 'end', job: { state: 'canceled', reason: 'canceled before it was sent' } });
  for (const state of ['completed', 'failed', 'canceled'] as const) t.same(nextStep(job({ state }), T0, policy), { kind: 'none' });
});

t.test('nextStep: a job with a handoff mark but no printer job id is looked up, never sent', async (t) => {
  const marked = beforeSend(job(), T0);
  t.equal(marked.state, 'sending');
  t.equal(marked.attempts, 1);
  t.same(marked.handoff, { at: T0, uncertain: false, lookups: 0 });
  t.same(nextStep(marked, T0 + 10, policy), { kind: 'lookup' }, 'after a crash: look among the printer jobs');
  t.same(nextStep({ ...marked, cancelRequested: true }, T0 + 10, policy), { kind: 'lookup' }, 'cancel waits for the answer');
  t.same(nextStep(marked, T0 + 3_600_001 + 0, policy).kind, 'end');
  t.match(nextStep(marked, T0 + 3_600_001, policy), { job: { state: 'failed', failure: 'uncertain' } });
});

t.test('nextStep: a handed-over job is followed, canceled remotely, given up after followMs', async (t) => {
  const handed = job({ state: 'processing', printerJobId: 7, handedOverAt: T0, nextAttemptAt: T0 + 500 });
  t.same(nextStep(handed, T0 + 100, policy), { kind: 'wait', until: T0 + 500 });
  t.same(nextStep(handed, T0 + 500, policy), { kind: 'poll', printerJobId: 7 });
  t.same(nextStep({ ...handed, cancelRequested: true }, T0 + 100, policy), { kind: 'cancel-remote', printerJobId: 7 });
  t.same(nextStep({ ...handed, cancelRequested: true, cancelSent: true }, T0 + 500, policy), { kind: 'poll', printerJobId: 7 });
  t.same(nextStep(handed, T0 + 120_000, policy), { kind: 'poll', printerJobId: 7 }, 'the queue deadline does not apply once handed over');
  t.match(nextStep(handed, T0 + 3_600_001, policy), { kind: 'end', job: { state: 'failed', failure: 'no-end' } });
});

t.test('afterSent: the printer job id is kept, the mark goes', async (t) => {
  const sent = afterSent(beforeSend(job({ lastError: 'old' }), T0), status('pending'), T0 + 40, policy);
  t.equal(sent.state, 'processing');
  t.equal(sent.printerJobId, 7);
  t.equal(sent.handedOverAt, T0, 'handed over when the upload started');
  t.equal(sent.handoff, undefined);
  t.equal(sent.lastError, undefined);
  t.equal(sent.nextAttemptAt, T0 + 40 + 500);
  t.equal(sent.printerJobState, 'pending');
  const done = afterSent(beforeSend(job(), T0), status('completed'), T0 + 40, policy);
  t.equal(done.state, 'completed');
  t.equal(done.finishedAt, T0 + 40);
});

t.test('afterSendFailed: retry, uncertain, refuse', async (t) => {
  const sending = beforeSend(job(), T0);
  const busy = afterSendFailed(sending, failure({}), T0 + 10, policy);
  t.equal(busy.state, 'queued');
  t.equal(busy.handoff, undefined, 'the printer answered: it has no job, the mark goes');
  t.equal(busy.nextAttemptAt, T0 + 10 + 1_000, 'first retry after retryBaseMs (jitter at its maximum here)');
  t.equal(busy.lastError, 'printer is busy');
  const third = afterSendFailed({ ...sending, attempts: 3 }, failure({}), T0 + 10, policy);
  t.equal(third.nextAttemptAt, T0 + 10 + 4_000, 'doubles per attempt');
  const capped = afterSendFailed({ ...sending, attempts: 9 }, failure({}), T0 + 58_000, policy);
  t.equal(capped.nextAttemptAt, T0 + 60_000, 'never later than the deadline');
  t.match(nextStep(capped, capped.nextAttemptAt, policy), { kind: 'end', job: { failure: 'deadline', reason: /printer is busy/ } });

  const refused = afterSendFailed(sending, failure({ reason: 'unreachable', requestComplete: false, answered: false, message: 'printer is not reachable (ECONNREFUSED)' }), T0 + 10, policy);
  t.equal(refused.state, 'queued', 'connection refused: nothing was delivered, retry');

  const timeout = afterSendFailed(sending, failure({ reason: 'timeout', requestComplete: true, answered: false, message: 'printer did not answer' }), T0 + 10, policy);
  t.equal(timeout.state, 'sending', 'the whole document went out unanswered: maybe printed');
  t.same(timeout.handoff, { at: T0, uncertain: true, lookups: 0 });
  t.same(nextStep(timeout, timeout.nextAttemptAt, policy), { kind: 'lookup' });

  const malformed = afterSendFailed(sending, failure({ reason: 'protocol', retryable: false, requestComplete: true, answered: false, message: 'malformed' }), T0 + 10, policy);
  t.equal(malformed.state, 'sending', 'a garbled answer to a complete upload is no proof of refusal');

  const aborted = afterSendFailed(sending, failure({ reason: 'aborted', requestComplete: false, answered: false }), T0 + 10, policy);
  t.same([aborted.state, aborted.attempts, aborted.nextAttemptAt], ['queued', 0, T0 + 10], 'our own stop costs no attempt');

  const noPdf = afterSendFailed(sending, failure({ reason: 'pdf-not-supported', retryable: false, message: 'printer does not accept PDF' }), T0 + 10, policy);
  t.match(noPdf, { state: 'failed', failure: 'refused', reason: 'printer does not accept PDF', finishedAt: T0 + 10 });
  t.equal(noPdf.handoff, undefined);
  const auth = afterSendFailed(sending, requestFailure(new PrintError('auth-failed', 'printer refused the credentials (HTTP 401)', { requestComplete: true, details: { httpStatus: 401 } })), T0, policy);
  t.match(auth, { state: 'failed', failure: 'refused' }, 'an HTTP status is an answer: no lookup');
  const gone = afterSendFailed(sending, failure({ reason: 'document-unreadable', retryable: false, requestComplete: false, answered: false }), T0, policy);
  t.match(gone, { state: 'failed', failure: 'document' });
});

t.test('afterLookup: found by marker → followed; not found → sent again', async (t) => {
  const uncertain = afterSendFailed(beforeSend(job(), T0), failure({ reason: 'timeout', answered: false }), T0 + 10, policy);
  const others = [status('completed', { jobId: 3, jobName: patientData('PBX-R3T1ABX other') }), status('processing', { jobId: 4, jobName: undefined })];
  const found = afterLookup(uncertain, [...others, status('processing', { jobId: 5 })], T0 + 2_000, policy);
  t.same([found.state, found.printerJobId, found.handedOverAt], ['processing', 5, T0]);
  const foundDone = afterLookup(uncertain, [status('completed', { jobId: 5 })], T0 + 2_000, policy);
  t.equal(foundDone.state, 'completed', 'printed meanwhile: completed, not printed again');
  const missing = afterLookup(uncertain, others, T0 + 2_000, policy);
  t.same([missing.state, missing.handoff, missing.nextAttemptAt], ['queued', undefined, T0 + 2_000]);
  t.match(afterLookup(uncertain, [], T0 + 60_000, policy), { state: 'failed', failure: 'deadline' });
  t.ok(hasMarker('PBX-R3T1AB AU Müller', 'PBX-R3T1AB'));
  t.ok(hasMarker('PBX-R3T1AB', 'PBX-R3T1AB'));
  t.notOk(hasMarker('PBX-R3T1ABX au', 'PBX-R3T1AB'), 'a longer marker is another job');
  t.equal(ippJobName(job()), 'PBX-R3T1AB AU Müller');
  t.equal(ippJobName(job({ jobName: undefined })), 'PBX-R3T1AB au');
});

t.test('afterLookupFailed: unreachable → ask again later; cannot list jobs → failed, not resent', async (t) => {
  const uncertain = afterSendFailed(beforeSend(job(), T0), failure({ reason: 'timeout', answered: false }), T0 + 10, policy);
  const later = afterLookupFailed(uncertain, failure({ reason: 'unreachable', answered: false, requestComplete: false }), T0 + 20, policy);
  t.same([later.state, later.handoff?.lookups, later.nextAttemptAt], ['sending', 1, T0 + 20 + 1_000]);
  const unsupported = afterLookupFailed(uncertain, failure({ reason: 'rejected', retryable: false, message: 'printer answered Get-Jobs with client-error-operation-not-supported' }), T0 + 20, policy);
  t.match(unsupported, { state: 'failed', failure: 'uncertain', reason: /cannot list its jobs/ });
});

t.test('afterPoll / afterPollFailed: end states, id reuse after a printer restart, lost jobs', async (t) => {
  const handed = afterSent(beforeSend(job(), T0), status('processing'), T0 + 10, policy);
  t.match(afterPoll(handed, status('completed', { reasons: ['job-completed-successfully'] }), T0 + 900, policy), { state: 'completed', printerJobReasons: ['job-completed-successfully'] });
  t.match(afterPoll(handed, status('aborted', { reasons: ['aborted-by-system'] }), T0 + 900, policy), { state: 'failed', failure: 'aborted', reason: 'the printer aborted the job (aborted-by-system)' });
  t.match(afterPoll(handed, status('canceled'), T0 + 900, policy), { state: 'canceled', reason: 'canceled at the printer' });
  t.match(afterPoll({ ...handed, cancelRequested: true }, status('canceled'), T0 + 900, policy), { state: 'canceled', reason: 'canceled on request' });
  t.match(afterPoll(handed, status('processing-stopped', { reasons: ['media-empty-error'] }), T0 + 900, policy), { state: 'processing', printerJobState: 'processing-stopped', nextAttemptAt: T0 + 1_400 });
  t.match(afterPoll(handed, status('completed', { jobName: patientData('someone else') }), T0 + 900, policy), { state: 'failed', failure: 'lost' }, 'the id names another job now');
  t.match(afterPoll(handed, status('completed', { jobName: undefined }), T0 + 900, policy), { state: 'completed' }, 'no name sent: trust the id');
  t.match(afterPollFailed(handed, failure({ reason: 'job-not-found', retryable: false }), T0 + 900, policy), { state: 'failed', failure: 'lost', reason: /no longer knows job 7/ });
  const down = afterPollFailed(handed, failure({ reason: 'unreachable', answered: false }), T0 + 900, policy);
  t.same([down.state, down.followErrors, down.nextAttemptAt], ['processing', 1, T0 + 900 + 1_000]);
  const auth = afterPollFailed(handed, failure({ reason: 'auth-failed', retryable: false }), T0 + 900, policy);
  t.equal(auth.state, 'processing', 'the printer has the job whatever our credentials say: keep asking');
  t.same(afterPoll(down, status('processing'), T0 + 2_000, policy).followErrors, 0);
});

t.test('afterCancelSent', async (t) => {
  const handed = afterSent(beforeSend(job({ cancelRequested: true }), T0), status('processing'), T0 + 10, policy);
  t.match(afterCancelSent(handed, undefined, T0 + 20, policy), { cancelSent: true, nextAttemptAt: T0 + 20, state: 'processing' });
  t.match(afterCancelSent(handed, failure({ reason: 'rejected', retryable: false }), T0 + 20, policy), { cancelSent: true }, 'already completed: the next poll tells');
  t.match(afterCancelSent(handed, failure({ reason: 'unreachable' }), T0 + 20, policy), { nextAttemptAt: T0 + 20 + 1_000 });
  t.notOk(afterCancelSent(handed, failure({ reason: 'unreachable' }), T0 + 20, policy).cancelSent);
  t.match(afterCancelSent(handed, failure({ reason: 'job-not-found', retryable: false }), T0 + 20, policy), { state: 'failed', failure: 'lost' });
});

t.test('requestFailure reads PrintErrors; anything else is an internal, final error', async (t) => {
  t.same(requestFailure(new PrintError('busy', 'busy', { ippStatus: 'server-error-busy', requestComplete: true })), {
    reason: 'busy',
    retryable: true,
    requestComplete: true,
    answered: true,
    message: 'busy',
  });
  t.same(requestFailure(new PrintError('timeout', 'slow', { requestComplete: true })).answered, false);
  t.same(requestFailure(new Error('boom: Müller')), { reason: 'other', retryable: false, requestComplete: false, answered: false, message: 'internal error while printing (see the box log)' });
});

t.test('events carry no job name', async (t) => {
  const e = jobEvent(job({ requestId: 'cmd-1' }), T0);
  t.same(e, { jobId: job().id, docType: 'au', printerId: 'empfang', state: 'queued', attempts: 0, requestId: 'cmd-1', ts: new Date(T0).toISOString() });
  t.notMatch(JSON.stringify(e), /Müller/);
});

t.test('model check: whatever the printer answers, a job with a printer job id or a mark is never sent', async (t) => {
  const outcomes = ['ok-pending', 'ok-done', 'busy', 'refused', 'timeout', 'unreachable', 'lookup-found', 'lookup-missing', 'lookup-fail', 'poll-done', 'poll-lost', 'poll-down'] as const;
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  let sends = 0;
  for (let run = 0; run < 500; run++) {
    let j = job();
    let now = T0;
    for (let i = 0; i < 40 && !['completed', 'failed', 'canceled'].includes(j.state); i++) {
      const step = nextStep(j, now, policy);
      const pick = outcomes[Math.floor(rnd() * outcomes.length)] ?? 'busy';
      if (step.kind === 'wait') now = step.until;
      else if (step.kind === 'end') j = step.job;
      else if (step.kind === 'send') {
        if (j.printerJobId !== undefined || j.handoff !== undefined) t.fail('send with a printer job id or a handoff mark');
        sends++;
        const s = beforeSend(j, now);
        now += 5;
        if (pick === 'ok-pending') j = afterSent(s, status('pending'), now, policy);
        else if (pick === 'ok-done') j = afterSent(s, status('completed'), now, policy);
        else if (pick === 'timeout') j = afterSendFailed(s, failure({ reason: 'timeout', answered: false }), now, policy);
        else if (pick === 'refused') j = afterSendFailed(s, failure({ reason: 'option-not-supported', retryable: false }), now, policy);
        else j = afterSendFailed(s, failure({ reason: pick === 'unreachable' ? 'unreachable' : 'busy', requestComplete: pick !== 'unreachable', answered: pick !== 'unreachable' }), now, policy);
      } else if (step.kind === 'lookup') {
        if (pick === 'lookup-found') j = afterLookup(j, [status('processing', { jobId: 9 })], now, policy);
        else if (pick === 'lookup-fail') j = afterLookupFailed(j, failure({ reason: 'unreachable', answered: false }), now, policy);
        else j = afterLookup(j, [], now, policy);
      } else if (step.kind === 'poll') {
        if (pick === 'poll-lost') j = afterPollFailed(j, failure({ reason: 'job-not-found', retryable: false }), now, policy);
        else if (pick === 'poll-down') j = afterPollFailed(j, failure({ reason: 'unreachable' }), now, policy);
        else j = afterPoll(j, status(pick === 'poll-done' ? 'completed' : 'processing', { jobId: step.printerJobId }), now, policy);
      }
    }
  }
  t.ok(sends > 500, `${sends} sends checked`);
});
