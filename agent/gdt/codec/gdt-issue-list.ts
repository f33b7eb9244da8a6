import { MAX_KEPT_ISSUES } from './gdt-issues.js';
import type { GdtIssue, GdtIssueCode } from './gdt-issues.js';

/** Collects a parse's issues, bounded: a hostile file with a wrong prefix on every line must not grow it without end. */
export class IssueList {
  readonly #issues: GdtIssue[] = [];
  #dropped = 0;

  add(code: GdtIssueCode, line: number, message: string, field?: string): void {
    if (this.#issues.length >= MAX_KEPT_ISSUES) {
      this.#dropped++;
      return;
    }
    this.#issues.push(field === undefined ? { code, line, message } : { code, line, field, message });
  }

  get size(): number {
    return this.#issues.length;
  }

  /** The issues in line order (record-level checks run at each record's end), plus a count of those dropped. */
  sorted(lastLine: number): GdtIssue[] {
    const out = this.#issues.length > 1 ? [...this.#issues].sort((a, b) => a.line - b.line) : [...this.#issues];
    if (this.#dropped > 0) out.push({ code: 'too-many-issues', line: lastLine, message: `${this.#dropped} more issues not listed` });
    return out;
  }
}
