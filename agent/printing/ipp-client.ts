import { isPraxisboxError, ErrorCode } from '../core/errors.js';
import { sleep, systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { patientData, type PatientData } from '../core/patient-data.js';
import { firstInteger, firstString, groupAttributes, strings } from './ipp/attribute-read.js';
import { isTerminalJobState, jobStateName, type JobStateName } from './ipp/constants.js';
import { decodeMessage } from './ipp/decode.js';
import { encodeMessage } from './ipp/encode.js';
import type { IppAttribute, IppMessage, IppResponse, IppVersion } from './ipp/ipp-value.js';
import { cancelJobRequest, getJobAttributesRequest, getJobsRequest, getPrinterAttributesRequest, printJobRequest, validateJobRequest, type RequestTarget } from './ipp/requests.js';
import { StatusCode, isSuccessful } from './ipp/status-codes.js';
import type { DocumentSource } from './document-upload.js';
import { IppTransport, type PrinterEndpoint } from './ipp-transport.js';
import { PrintError, errorForStatus } from './print-error.js';
import { jobTemplateAttributes, type PrintTicket } from './print-ticket.js';
import { CAPABILITY_ATTRIBUTES, PDF, assertAcceptsPdf, parseCapabilities, type PrinterCapabilities } from './printer-capabilities.js';

/**
 * The IPP client the print queue calls: one instance per configured printer. It speaks IPP/2.0
 * (falling back to 1.1 once when a printer answers server-error-version-not-supported), checks a
 * job against the printer's capabilities before sending it, and turns every failure into a
 * `PrintError` whose `retryable` tells the queue whether to try again later.
 */

export interface ClientTimeouts {
  /** Get-Printer-Attributes, Get-Job-Attributes, Cancel-Job, Validate-Job. */
  queryMs: number;
  /** Print-Job including the document upload. */
  printMs: number;
  /** No progress on the socket for this long (also the TLS handshake limit). */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: ClientTimeouts = { queryMs: 10_000, printMs: 300_000, idleMs: 30_000 };

export interface IppClientDeps {
  printer: PrinterEndpoint;
  log?: Logger;
  clock?: Clock;
  /** requesting-user-name; defaults to the Basic auth user, else `praxisbox`. */
  requestingUserName?: string;
  timeouts?: Partial<ClientTimeouts>;
  /** Larger answers are refused as hostile (a real Get-Printer-Attributes is < 300 kB). */
  maxResponseBytes?: number;
  /** Capabilities older than this are fetched again before a job. */
  capabilitiesMaxAgeMs?: number;
}

export interface PrintJobInput {
  /**
   * `{ path }` (the queue's spool file) is preferred: sized, re-readable, sent with bounded memory.
   * Streams are piped as they come; a retry then needs a fresh stream.
   */
  document: DocumentSource;
  /** Exact size of a stream when known: sent as Content-Length; otherwise chunked. Files know theirs. */
  documentLength?: number;
  ticket?: PrintTicket;
  /** Names may identify a patient: wrapped so no log line shows them. */
  jobName?: PatientData<string>;
  /** Default true: the printer must reject rather than substitute (another tray, one-sided). */
  fidelity?: boolean;
  signal?: AbortSignal;
}

export interface JobStatus {
  jobId: number;
  state: JobStateName | 'unknown';
  reasons: string[];
  terminal: boolean;
  impressionsCompleted: number | undefined;
  /** As the printer holds it (may identify a patient); only when the printer sent it. */
  jobName: PatientData<string> | undefined;
}

export interface SubmittedJob extends JobStatus {
  jobUri: string | undefined;
  /** Attribute names the printer ignored or substituted (only possible with fidelity false). */
  ignoredAttributes: string[];
}

export class IppClient {
  readonly #deps: IppClientDeps;
  readonly #transport: IppTransport;
  readonly #timeouts: ClientTimeouts;
  readonly #clock: Clock;
  #version: IppVersion = { major: 2, minor: 0 };
  #requestId = 0;
  #capabilities: { value: PrinterCapabilities; at: number } | undefined;

  constructor(deps: IppClientDeps) {
    this.#deps = deps;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
    this.#clock = deps.clock ?? systemClock;
    this.#transport = new IppTransport({ endpoint: deps.printer, idleTimeoutMs: this.#timeouts.idleMs, maxResponseBytes: deps.maxResponseBytes ?? 4 * 1024 * 1024 });
    if (deps.printer.auth && !this.#transport.secure) {
      deps.log?.warn({ printer: deps.printer.uri }, 'printer uses Basic auth over plain ipp://: the password crosses the network unencrypted');
    }
  }

  /** The IPP version in use (2.0 until a printer refuses it). */
  get version(): IppVersion {
    return { ...this.#version };
  }

  async getPrinterAttributes(options: { requestedAttributes?: readonly string[]; signal?: AbortSignal } = {}): Promise<IppResponse> {
    return this.#call('Get-Printer-Attributes', (t, id) => getPrinterAttributesRequest(t, id, { requestedAttributes: options.requestedAttributes ?? [] }), {
      signal: options.signal,
    });
  }

  /** Fresh capabilities (and printer state) from the printer; also refreshes the cache jobs use. */
  async getCapabilities(signal?: AbortSignal): Promise<PrinterCapabilities> {
    const response = await this.getPrinterAttributes({ requestedAttributes: CAPABILITY_ATTRIBUTES, signal });
    const value = parseCapabilities(response);
    // Printers that list their IPP versions and lack 2.0 get 1.1 from the start (ipp-versions-supported, RFC 8011 §5.4).
    if (value.ippVersions.length > 0 && !value.ippVersions.includes('2.0') && value.ippVersions.includes('1.1')) this.#version = { major: 1, minor: 1 };
    this.#capabilities = { value, at: this.#clock.now() };
    return value;
  }

  async #currentCapabilities(signal?: AbortSignal): Promise<PrinterCapabilities> {
    const cached = this.#capabilities;
    const maxAge = this.#deps.capabilitiesMaxAgeMs ?? 60_000;
    if (cached && this.#clock.now() - cached.at < maxAge) return cached.value;
    return this.getCapabilities(signal);
  }

  /** Asks the printer whether it would take this job (Validate-Job); throws the PrintError it would cause. */
  async validateJob(input: Omit<PrintJobInput, 'document' | 'documentLength'>): Promise<{ ignoredAttributes: string[] }> {
    const caps = await this.#currentCapabilities(input.signal);
    assertAcceptsPdf(caps);
    const job = { jobName: input.jobName?.reveal(), documentFormat: PDF, fidelity: input.fidelity ?? true, jobAttributes: jobTemplateAttributes(input.ticket ?? {}, caps) };
    const response = await this.#call('Validate-Job', (t, id) => validateJobRequest(t, id, job), { signal: input.signal, jobOperation: true });
    return { ignoredAttributes: groupAttributes(response, 'unsupported').map((a) => a.name) };
  }

  async printJob(input: PrintJobInput): Promise<SubmittedJob> {
    const caps = await this.#currentCapabilities(input.signal);
    assertAcceptsPdf(caps);
    const job = { jobName: input.jobName?.reveal(), documentFormat: PDF, fidelity: input.fidelity ?? true, jobAttributes: jobTemplateAttributes(input.ticket ?? {}, caps) };
    const response = await this.#call('Print-Job', (t, id) => printJobRequest(t, id, job), {
      signal: input.signal,
      jobOperation: true,
      document: input.document,
      documentLength: input.documentLength,
    });
    const status = jobStatusOf(response);
    return { ...status, jobUri: firstString(groupAttributes(response, 'job'), 'job-uri'), ignoredAttributes: groupAttributes(response, 'unsupported').map((a) => a.name) };
  }

  async getJob(jobId: number, signal?: AbortSignal): Promise<JobStatus> {
    const response = await this.#call('Get-Job-Attributes', (t, id) => getJobAttributesRequest(t, id, jobId), { signal, jobOperation: true });
    return jobStatusOf(response, jobId);
  }

  /**
   * The printer's jobs (Get-Jobs), newest first as the printer sends them. `all` is tried first;
   * a printer that refuses it (RFC 8011 only knows completed / not-completed) is asked for both.
   */
  async getJobs(options: { limit?: number; signal?: AbortSignal } = {}): Promise<JobStatus[]> {
    const ask = async (whichJobs: string): Promise<JobStatus[]> => {
      const response = await this.#call('Get-Jobs', (t, id) => getJobsRequest(t, id, { whichJobs, ...(options.limit !== undefined ? { limit: options.limit } : {}) }), {
        signal: options.signal,
      });
      return response.groups.filter((g) => g.name === 'job').map((g) => jobStatusFrom(g.attributes));
    };
    try {
      return await ask('all');
    } catch (err) {
      if (!(err instanceof PrintError) || err.reason !== 'option-not-supported') throw err;
      return [...(await ask('not-completed')), ...(await ask('completed'))];
    }
  }

  async cancelJob(jobId: number, signal?: AbortSignal): Promise<void> {
    await this.#call('Cancel-Job', (t, id) => cancelJobRequest(t, id, jobId), { signal, jobOperation: true });
  }

  /** Polls Get-Job-Attributes until the job is completed, canceled or aborted. */
  async waitForJob(jobId: number, options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<JobStatus> {
    for (;;) {
      const status = await this.getJob(jobId, options.signal);
      if (status.terminal) return status;
      await sleep(this.#clock, options.pollMs ?? 1000, options.signal);
    }
  }

  close(): void {
    this.#transport.close();
  }

  #target(): RequestTarget {
    return {
      version: this.#version,
      printerUri: this.#deps.printer.uri,
      requestingUserName: this.#deps.requestingUserName ?? this.#deps.printer.auth?.username ?? 'praxisbox',
    };
  }

  async #call(
    operation: string,
    build: (target: RequestTarget, requestId: number) => IppMessage,
    x: { signal?: AbortSignal | undefined; jobOperation?: boolean; document?: PrintJobInput['document']; documentLength?: number | undefined },
  ): Promise<IppResponse> {
    const started = this.#clock.now();
    this.#requestId = this.#requestId >= 0x7fffffff ? 1 : this.#requestId + 1;
    const requestId = this.#requestId;
    const sentVersion = this.#version;
    const message = encodeMessage(build(this.#target(), requestId));
    const body = await this.#transport.exchange({
      operation,
      message,
      document: x.document,
      documentLength: x.documentLength,
      timeoutMs: x.document ? this.#timeouts.printMs : this.#timeouts.queryMs,
      signal: x.signal,
      idempotent: !x.document && operation !== 'Cancel-Job',
    });
    const response = decodeResponse(body, operation);
    if (response.requestId !== requestId) {
      throw new PrintError('protocol', `printer answered ${operation} with request-id ${response.requestId}, expected ${requestId}`, { requestComplete: true });
    }
    if (response.code === StatusCode['server-error-version-not-supported'] && sentVersion.major === 2 && !x.document) {
      this.#version = { major: 1, minor: 1 };
      this.#deps.log?.info({ printer: this.#deps.printer.uri }, 'printer refused IPP/2.0; using IPP/1.1');
      return this.#call(operation, build, x);
    }
    this.#deps.log?.debug({ operation, status: response.code, ms: this.#clock.now() - started }, 'ipp request');
    if (!isSuccessful(response.code)) {
      const unsupported = groupAttributes(response, 'unsupported').map((a) => a.name);
      throw errorForStatus(response.code, operation, { jobOperation: x.jobOperation ?? false, requestComplete: true, unsupported });
    }
    return response;
  }
}

function decodeResponse(body: Buffer, operation: string): IppResponse {
  try {
    return decodeMessage(body);
  } catch (err) {
    if (isPraxisboxError(err) && err.code === ErrorCode.Corrupt) {
      throw new PrintError('protocol', `printer sent a malformed answer to ${operation}: ${err.message}`, { cause: err, requestComplete: true, details: err.details ?? {} });
    }
    throw err;
  }
}

function jobStatusOf(response: IppMessage, requestedJobId?: number): JobStatus {
  return jobStatusFrom(groupAttributes(response, 'job'), requestedJobId);
}

function jobStatusFrom(job: readonly IppAttribute[], requestedJobId?: number): JobStatus {
  const jobId = firstInteger(job, 'job-id') ?? requestedJobId;
  if (jobId === undefined) throw new PrintError('protocol', 'printer accepted the job but sent no job-id', { requestComplete: true });
  const stateValue = firstInteger(job, 'job-state');
  const state = (stateValue !== undefined ? jobStateName(stateValue) : undefined) ?? 'unknown';
  return {
    jobId,
    state,
    reasons: strings(job, 'job-state-reasons').filter((r) => r !== 'none'),
    terminal: state !== 'unknown' && isTerminalJobState(state),
    impressionsCompleted: firstInteger(job, 'job-impressions-completed'),
    jobName: jobNameOf(job),
  };
}

function jobNameOf(job: readonly IppAttribute[]): PatientData<string> | undefined {
  const value = firstString(job, 'job-name');
  return value === undefined ? undefined : patientData(value);
}
