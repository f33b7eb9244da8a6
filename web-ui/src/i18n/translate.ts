/** Pure text helpers of the dictionaries (no DOM), shared by the pages and the unit test. */
export type ReasonPatterns = ReadonlyArray<readonly [RegExp, string]>;

export function fill(text: string, params?: Record<string, string | number>): string {
  return params ? text.replace(/\{(\w+)\}/g, (m, name: string) => (params[name] !== undefined ? String(params[name]) : m)) : text;
}

/** The first matching pattern's text with `$1 …` filled in; no match: the original text. */
export function translateReason(text: string, patterns: ReasonPatterns, depth = 0): string {
  for (const [pattern, translated] of patterns) {
    const m = pattern.exec(text);
    // Captured parts are reasons themselves ("cards is unavailable: <reason>"): translated too.
    if (m) return translated.replace(/\$(\d)/g, (_s, i: string) => (depth < 3 ? translateReason(m[Number(i)] ?? '', patterns, depth + 1) : (m[Number(i)] ?? '')));
  }
  return text;
}
