import { ErrorCode, PraxisboxError } from '../../core/errors.js';

/**
 * Rule breaks the parser tolerates. In lenient mode (the default for import) they are attached to
 * the result as warnings; strict mode throws them as one `GdtRuleError`. Messages name line numbers,
 * field ids and byte counts — never field contents, which are patient data.
 */
export type GdtIssueCode =
  /** `LLL` is not the line's length in bytes (content + 9, CRLF included). */
  | 'length-prefix'
  /** 8100 missing, unreadable, or not the record's size in bytes. */
  | 'record-size'
  /** 8100 is not the record's second line. */
  | 'field-order'
  /** Lines end in LF or CR instead of CRLF (reported once, at the first such line). */
  | 'line-ending'
  /** The last line has no line break. */
  | 'final-newline'
  /** An empty (or blank) line between fields. */
  | 'blank-line'
  /** 9206 holds an unknown code, or records of one file declare different charsets. */
  | 'charset-label'
  /** The bytes cannot be in the declared charset (e.g. UTF-8 under 9206=3); decoded as detected. */
  | 'charset-mismatch'
  /** 9218 missing, or a version other than 02.00, 02.10 or 3.x. */
  | 'version'
  /** 8000 holds a record type GDT does not define (the record is still kept). */
  | 'record-type'
  /** More issues than the parser keeps; the count is in the message. */
  | 'too-many-issues';

export interface GdtIssue {
  readonly code: GdtIssueCode;
  /** 1-based physical line number (CRLF, LF and CR each end one line). */
  readonly line: number;
  /** The field id the issue is about, when there is one. */
  readonly field?: string;
  readonly message: string;
}

export const MAX_KEPT_ISSUES = 1000;

export function formatIssue(issue: GdtIssue): string {
  return issue.field === undefined ? `line ${issue.line}: ${issue.message}` : `line ${issue.line}, field ${issue.field}: ${issue.message}`;
}

/** Strict mode's error: the file is readable GDT but breaks the rules listed in `issues`. */
export class GdtRuleError extends PraxisboxError {
  readonly issues: readonly GdtIssue[];

  constructor(issues: readonly GdtIssue[]) {
    const shown = issues.slice(0, 5).map(formatIssue).join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    super(ErrorCode.InvalidInput, `GDT file breaks the rules: ${shown}${more}`, {
      details: { issues: issues.map((i) => ({ code: i.code, line: i.line, field: i.field })) },
    });
    this.issues = issues;
  }
}

/** The file is not GDT at all (or not in a shape the parser can recover from), in any mode. */
export function corrupt(message: string, details?: Record<string, unknown>): PraxisboxError {
  return new PraxisboxError(ErrorCode.Corrupt, message, details ? { details } : undefined);
}
