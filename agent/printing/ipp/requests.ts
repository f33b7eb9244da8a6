import { DelimiterTag, Operation } from './constants.js';
import { attribute, boolean, charset, integer, keyword, mimeMediaType, name, naturalLanguage, uri } from './ipp-value.js';
import type { IppAttribute, IppGroup, IppMessage, IppVersion } from './ipp-value.js';

/**
 * Request builders for the operations the client uses (RFC 8011 §4.2.1, §4.2.3, §4.3.3,
 * §4.3.4, §4.2.5, and Get-Jobs §4.2.6). Pure: the transport adds the document bytes after the encoded message.
 * Operation attributes start with attributes-charset, attributes-natural-language and the target
 * in this order (RFC 8011 §4.1.4–4.1.5); printers may reject a request that reorders them.
 */

export interface RequestTarget {
  version: IppVersion;
  printerUri: string;
  requestingUserName: string;
  /** attributes-natural-language; `en` unless the printer must answer status messages in German. */
  naturalLanguage?: string;
}

export interface JobRequest {
  /** Personal data may be in here: the builder only encodes it, callers must not log it. */
  jobName?: string;
  documentFormat: string;
  /**
   * ipp-attribute-fidelity (RFC 8011, Print-Job operation attributes): true makes the printer reject a job
   * it cannot print exactly as asked instead of substituting (e.g. another tray for a form tray).
   */
  fidelity: boolean;
  /** Job Template attributes (copies, sides, print-color-mode, media-col) for the job group. */
  jobAttributes: IppAttribute[];
}

export const JOB_STATUS_ATTRIBUTES = [
  'job-id',
  'job-uri',
  'job-state',
  'job-state-reasons',
  'job-state-message',
  'job-impressions-completed',
  'job-media-sheets-completed',
  'job-name',
] as const;

/** Names are at most 255 octets (RFC 8011 §5.1); job names are cut on a UTF-8 character boundary. */
export function truncateName(value: string, maxBytes = 255): string {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= maxBytes) return value;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function operationGroup(target: RequestTarget, rest: IppAttribute[]): IppGroup {
  return {
    name: 'operation',
    tag: DelimiterTag.operation,
    attributes: [
      attribute('attributes-charset', charset('utf-8')),
      attribute('attributes-natural-language', naturalLanguage(target.naturalLanguage ?? 'en')),
      attribute('printer-uri', uri(target.printerUri)),
      ...rest,
    ],
  };
}

function message(target: RequestTarget, operation: number, requestId: number, op: IppAttribute[], job?: IppAttribute[]): IppMessage {
  const groups: IppGroup[] = [operationGroup(target, op)];
  if (job && job.length > 0) groups.push({ name: 'job', tag: DelimiterTag.job, attributes: job });
  return { version: target.version, code: operation, requestId, groups };
}

const userName = (target: RequestTarget): IppAttribute => attribute('requesting-user-name', name(truncateName(target.requestingUserName)));

export function getPrinterAttributesRequest(
  target: RequestTarget,
  requestId: number,
  options: { requestedAttributes?: readonly string[]; documentFormat?: string } = {},
): IppMessage {
  const op: IppAttribute[] = [userName(target)];
  if (options.requestedAttributes && options.requestedAttributes.length > 0) {
    op.push(attribute('requested-attributes', ...options.requestedAttributes.map(keyword)));
  }
  if (options.documentFormat) op.push(attribute('document-format', mimeMediaType(options.documentFormat)));
  return message(target, Operation.GetPrinterAttributes, requestId, op);
}

function jobCreation(target: RequestTarget, job: JobRequest): IppAttribute[] {
  const op: IppAttribute[] = [userName(target)];
  if (job.jobName !== undefined && job.jobName.length > 0) op.push(attribute('job-name', name(truncateName(job.jobName))));
  op.push(attribute('ipp-attribute-fidelity', boolean(job.fidelity)));
  op.push(attribute('document-format', mimeMediaType(job.documentFormat)));
  return op;
}

export function validateJobRequest(target: RequestTarget, requestId: number, job: JobRequest): IppMessage {
  return message(target, Operation.ValidateJob, requestId, jobCreation(target, job), job.jobAttributes);
}

/** The document itself follows the encoded message in the HTTP body (RFC 8010 §3.1.1 "data"). */
export function printJobRequest(target: RequestTarget, requestId: number, job: JobRequest): IppMessage {
  return message(target, Operation.PrintJob, requestId, jobCreation(target, job), job.jobAttributes);
}

export function getJobAttributesRequest(
  target: RequestTarget,
  requestId: number,
  jobId: number,
  requestedAttributes: readonly string[] = JOB_STATUS_ATTRIBUTES,
): IppMessage {
  return message(target, Operation.GetJobAttributes, requestId, [
    attribute('job-id', integer(jobId)),
    userName(target),
    attribute('requested-attributes', ...requestedAttributes.map(keyword)),
  ]);
}

export function cancelJobRequest(target: RequestTarget, requestId: number, jobId: number): IppMessage {
  return message(target, Operation.CancelJob, requestId, [attribute('job-id', integer(jobId)), userName(target)]);
}

/**
 * Get-Jobs (RFC 8011 §4.2.6): the queue asks for every job it may have handed over when it cannot
 * tell whether a Print-Job reached the printer. `which-jobs` `all` is PWG 5100.7; printers without
 * it answer with an unsupported-value error and the caller asks for completed and not-completed.
 */
export function getJobsRequest(
  target: RequestTarget,
  requestId: number,
  options: { whichJobs: string; limit?: number; requestedAttributes?: readonly string[] },
): IppMessage {
  const op: IppAttribute[] = [userName(target), attribute('which-jobs', keyword(options.whichJobs))];
  if (options.limit !== undefined) op.push(attribute('limit', integer(options.limit)));
  op.push(attribute('requested-attributes', ...(options.requestedAttributes ?? JOB_STATUS_ATTRIBUTES).map(keyword)));
  return message(target, Operation.GetJobs, requestId, op);
}
