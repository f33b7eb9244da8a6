import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type FieldProblem } from './api.js';
import { useI18n } from './i18n/index.js';

/** Field problems under `prefix` (e.g. `/printing`) keyed by the rest of their path (`printers/0/uri`). */
export type FieldErrors = Record<string, string>;

export function fieldErrors(err: unknown, prefix: string, translate: (s: string) => string): FieldErrors {
  const out: FieldErrors = {};
  const problems: FieldProblem[] = err instanceof ApiError ? err.problems : [];
  for (const p of problems) {
    if (!p.path.startsWith(prefix)) continue;
    const key = p.path.slice(prefix.length).replace(/^\//, '');
    out[key] ??= translate(p.message);
  }
  return out;
}

let idCounter = 0;
const useId = (base: string): string => useRef(`${base}-${++idCounter}`).current;

interface FieldProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string | undefined;
  hint?: string | undefined;
  type?: 'text' | 'password' | 'url';
  name?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  inputMode?: 'text' | 'numeric';
  large?: boolean;
  autoFocus?: boolean;
}

/** One labelled input with its hint and its error right below (announced to screen readers). */
export function Field(p: FieldProps): JSX.Element {
  const id = useId(p.name ?? 'field');
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (p.autoFocus) ref.current?.focus();
  }, []);
  const described = [p.hint ? `${id}-hint` : '', p.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${p.error ? ' has-error' : ''}`}>
      <label for={id}>{p.label}</label>
      <input
        ref={ref}
        id={id}
        name={p.name}
        class={p.large ? 'large' : undefined}
        type={(p.type ?? 'text') as 'text'}
        value={p.value}
        required={p.required}
        autoComplete={p.autoComplete}
        placeholder={p.placeholder}
        inputMode={p.inputMode}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described || undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {p.hint ? <p class="hint" id={`${id}-hint`}>{p.hint}</p> : null}
      {p.error ? <p class="field-error" id={`${id}-error`}>{p.error}</p> : null}
    </div>
  );
}

interface SelectProps {
  label: string;
  value: string;
  options: Array<{ value: string; label: string }>;
  onChange: (value: string) => void;
  error?: string | undefined;
  name?: string;
  compact?: boolean;
}

export function Select(p: SelectProps): JSX.Element {
  const id = useId(p.name ?? 'select');
  return (
    <div class={`field${p.error ? ' has-error' : ''}${p.compact ? ' compact' : ''}`}>
      <label for={id} class={p.compact ? 'visually-hidden' : undefined}>{p.label}</label>
      <select id={id} name={p.name} value={p.value} aria-invalid={p.error ? 'true' : undefined} aria-describedby={p.error ? `${id}-error` : undefined} onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}>
        {p.options.map((o) => (
          <option value={o.value} key={o.value}>{o.label}</option>
        ))}
      </select>
      {p.error ? <p class="field-error" id={`${id}-error`}>{p.error}</p> : null}
    </div>
  );
}

export function Checkbox(p: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string }): JSX.Element {
  const id = useId(p.name ?? 'check');
  return (
    <div class="check">
      <input id={id} type="checkbox" name={p.name} checked={p.checked} onChange={(e) => p.onChange((e.currentTarget as HTMLInputElement).checked)} />
      <label for={id}>{p.label}</label>
    </div>
  );
}

export type NoticeKind = 'info' | 'success' | 'error' | 'warning';

/** A status line; errors are assertive, the rest polite. Always rendered so the live region exists. */
export function Notice(p: { kind?: NoticeKind; children?: ComponentChildren; testId?: string }): JSX.Element {
  const kind = p.kind ?? 'info';
  const empty = p.children === null || p.children === undefined || p.children === '' || p.children === false;
  return (
    <div class={empty ? 'notice-slot' : `notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} aria-live={kind === 'error' ? 'assertive' : 'polite'} data-testid={p.testId}>
      {empty ? null : p.children}
    </div>
  );
}

export function Section(p: { title: string; children: ComponentChildren; actions?: ComponentChildren; id?: string }): JSX.Element {
  const id = p.id ?? `s-${p.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head">
        <h2 id={id}>{p.title}</h2>
        {p.actions ? <div class="card-actions">{p.actions}</div> : null}
      </div>
      {p.children}
    </section>
  );
}

export type HealthLevel = 'ok' | 'degraded' | 'fault' | 'unknown';

export function HealthDot(p: { level: HealthLevel; label?: string }): JSX.Element {
  const { t } = useI18n();
  return (
    <span class={`health health-${p.level}`}>
      <span class="dot" aria-hidden="true" />
      {p.label ?? t(`health.${p.level}`)}
    </span>
  );
}

/** Runs `load` now and every `ms` while mounted (and the tab is visible). */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []): { data: T | undefined; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    let failures = 0;
    let hadData = false;
    const run = async (): Promise<void> => {
      try {
        const value = await load();
        failures = 0;
        hadData = true;
        if (alive) {
          setData(value);
          setError(undefined);
        }
      } catch (err) {
        failures += 1;
        // One failed poll after good data (a module restarting for a saved change) is not news.
        if (alive && (failures > 1 || !hadData)) setError(err);
      }
      if (alive && ms > 0) timer = window.setTimeout(() => void run(), document.hidden ? ms * 4 : ms);
    };
    void run();
    return () => {
      alive = false;
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [tick, ...deps]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

export function errorText(err: unknown, t: ReturnType<typeof useI18n>['t'], reason: (s: string) => string): string {
  if (err instanceof ApiError) {
    if (err.code === 'Offline') return t('app.offline');
    const firstLine = err.message.split('\n')[0] ?? err.message;
    return t('common.error', { message: reason(firstLine) });
  }
  return t('common.error', { message: String(err) });
}

export function splitList(text: string): string[] {
  return text.split(/[,;\n]/).map((s) => s.trim()).filter((s) => s !== '');
}

/** Password strength for the hint: 0 weak … 3 strong (the server enforces its own rule). */
export function passwordStrength(pw: string): 0 | 1 | 2 | 3 {
  if (pw.length < 12) return 0;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  const score = (pw.length >= 16 ? 1 : 0) + (classes >= 3 ? 1 : 0) + (classes >= 2 ? 1 : 0);
  return Math.min(3, Math.max(1, score)) as 1 | 2 | 3;
}

export function StrengthHint(p: { password: string }): JSX.Element | null {
  const { t } = useI18n();
  if (p.password === '') return null;
  const s = passwordStrength(p.password);
  const level = (['strength.weak', 'strength.fair', 'strength.good', 'strength.strong'] as const)[s];
  return (
    <div class={`strength strength-${s}`} aria-live="polite">
      <div class="strength-bar" aria-hidden="true"><span /></div>
      <p>{t('strength.label', { level: t(level) })}</p>
    </div>
  );
}

/** A horizontally (or vertically) scrolling table region: focusable so keyboard users can scroll it. */
export function TableWrap(p: { label: string; children: ComponentChildren; log?: boolean }): JSX.Element {
  return (
    <div class={p.log ? 'table-wrap log-wrap' : 'table-wrap'} role="region" aria-label={p.label} tabIndex={0}>
      {p.children}
    </div>
  );
}
