import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, setSession } from '../api.js';
import { useI18n } from '../i18n/index.js';
import { Field, Notice, Section, StrengthHint, errorText, passwordStrength, type NoticeKind } from '../ui.js';

export function AccountPage(): JSX.Element {
  const { t, reason } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<{ current?: string; next?: string; repeat?: string }>({});
  const [notice, setNotice] = useState<{ kind: NoticeKind; text: string } | undefined>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const local: typeof errors = {};
    if (passwordStrength(next) === 0) local.next = t('strength.weak');
    if (next !== repeat) local.repeat = t('setup.mismatch');
    setErrors(local);
    setNotice(undefined);
    if (Object.keys(local).length > 0) return;
    try {
      await api.changePassword(current, next);
      // The server rotates the session (and its CSRF token) with the password.
      const s = await api.session().catch(() => undefined);
      if (s) setSession(s);
      setCurrent('');
      setNext('');
      setRepeat('');
      setNotice({ kind: 'success', text: t('account.changed') });
    } catch (err) {
      const problems = err instanceof ApiError ? err.problems : [];
      const nextProblem = problems.find((p) => p.path === '/next');
      if (problems.some((p) => p.path === '/current')) setErrors({ current: t('account.wrongCurrent') });
      else if (nextProblem) setErrors({ next: reason(nextProblem.message) });
      else setNotice({ kind: 'error', text: errorText(err, t, reason) });
    }
  };
  return (
    <>
      <h1>{t('account.title')}</h1>
      <Section title={t('account.password')}>
        <form onSubmit={(e) => void submit(e)} noValidate class="narrow">
          <Field name="current" type="password" label={t('account.current')} value={current} onInput={setCurrent} error={errors.current} autoComplete="current-password" required />
          <Field name="next" type="password" label={t('account.next')} value={next} onInput={setNext} error={errors.next} autoComplete="new-password" required />
          <StrengthHint password={next} />
          <Field name="repeat" type="password" label={t('account.repeat')} value={repeat} onInput={setRepeat} error={errors.repeat} autoComplete="new-password" required />
          <div class="actions">
            <button type="submit" class="button">{t('account.password')}</button>
          </div>
        </form>
        <Notice kind={notice?.kind ?? 'info'} testId="password-notice">{notice?.text ?? ''}</Notice>
      </Section>
    </>
  );
}
