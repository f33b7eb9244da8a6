import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Session } from '../api.js';
import { useI18n } from '../i18n/index.js';
import type { MessageKey } from '../i18n/de.js';
import { LangSwitch } from '../app.js';
import { Field, Notice, errorText } from '../ui.js';

export function LoginPage(p: { session: Session; notice: MessageKey | undefined; onDone: () => void }): JSX.Element {
  const { t, reason } = useI18n();
  const [pw, setPw] = useState('');
  const [error, setError] = useState('');
  const [lockedUntil, setLockedUntil] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (lockedUntil <= now) return;
    const timer = window.setTimeout(() => setNow(Date.now()), 1000);
    return () => window.clearTimeout(timer);
  }, [lockedUntil, now]);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api.login(pw);
      p.onDone();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 429 || /lock|rate/i.test(err.code))) {
        if (err.retryAfterSeconds !== undefined) setLockedUntil(Date.now() + err.retryAfterSeconds * 1000);
        setNow(Date.now());
        setError(err.retryAfterSeconds !== undefined ? t('login.locked', { time: err.retryAfterSeconds >= 60 ? `${Math.ceil(err.retryAfterSeconds / 60)} min` : `${err.retryAfterSeconds} s` }) : t('login.lockedShort'));
      } else if (err instanceof ApiError && (err.status === 401 || err.status === 403)) setError(t('login.wrong'));
      else setError(errorText(err, t, reason));
      setPw('');
    } finally {
      setBusy(false);
    }
  };
  const remaining = Math.ceil((lockedUntil - now) / 1000);
  return (
    <main class="centered">
      <div class="auth-card">
        <div class="auth-head">
          <span class="logo" aria-hidden="true">P</span>
          <h1>{t('login.title')}</h1>
          <LangSwitch />
        </div>
        <p class="muted">Praxisbox · {p.session.boxId ?? ''}</p>
        <Notice kind="info">{p.notice ? t(p.notice) : ''}</Notice>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <Field name="password" type="password" label={t('login.password')} value={pw} onInput={setPw} error={error} autoComplete="current-password" autoFocus required />
          <div class="actions">
            <button class="button" type="submit" disabled={busy || remaining > 0}>{remaining > 0 ? `${t('login.submit')} (${Math.floor(remaining / 60)}:${String(remaining % 60).padStart(2, '0')})` : t('login.submit')}</button>
          </div>
        </form>
      </div>
    </main>
  );
}
