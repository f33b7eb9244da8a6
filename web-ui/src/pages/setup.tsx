import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, setSession, type Session } from '../api.js';
import { useI18n } from '../i18n/index.js';
import { LangSwitch } from '../app.js';
import { Field, Notice, StrengthHint, errorText, passwordStrength } from '../ui.js';

/** First run: the setup code from the box label, then the administrator password. */
export function SetupPage(p: { session: Session; onDone: (loggedIn: boolean) => void }): JSX.Element {
  const { t, reason } = useI18n();
  const [step, setStep] = useState<1 | 2>(1);
  const [code, setCode] = useState('');
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [errors, setErrors] = useState<{ code?: string; pw?: string; pw2?: string }>({});
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');

  const next = (e: Event): void => {
    e.preventDefault();
    if (code.trim() === '') return setErrors({ code: t('setup.codeRequired') });
    setErrors({});
    setStep(2);
  };
  const finish = async (e: Event): Promise<void> => {
    e.preventDefault();
    const local: typeof errors = {};
    if (passwordStrength(pw) === 0) local.pw = t('strength.weak');
    if (pw !== pw2) local.pw2 = t('setup.mismatch');
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    setMessage('');
    try {
      await api.setup(code.trim(), pw);
      const s = await api.session().catch(() => undefined);
      if (s) setSession(s);
      p.onDone(s?.loggedIn ?? false);
    } catch (err) {
      const problems = err instanceof ApiError ? err.problems : [];
      const pwProblem = problems.find((x) => /password/i.test(x.path));
      const codeWrong = err instanceof ApiError && (/code/i.test(err.code) || /code/i.test(err.message) || problems.some((x) => /setupCode/i.test(x.path)));
      if (pwProblem) setErrors({ pw: reason(pwProblem.message) });
      else if (codeWrong) {
        setErrors({ code: t('setup.wrongCode') });
        setStep(1);
      } else setMessage(errorText(err, t, reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="centered">
      <div class="auth-card">
        <div class="auth-head">
          <span class="logo" aria-hidden="true">P</span>
          <h1>{t('setup.title')}</h1>
          <LangSwitch />
        </div>
        <p>{t('setup.intro')}</p>
        <dl class="facts">
          <dt>{t('setup.boxId')}</dt>
          <dd data-testid="box-id">{p.session.boxId ?? t('common.none')}</dd>
          <dt>{t('setup.fingerprint')}</dt>
          <dd class="mono fingerprint" data-testid="fingerprint">{p.session.fingerprint ?? t('setup.noFingerprint')}</dd>
        </dl>
        {p.session.fingerprint ? <p class="hint">{t('setup.fingerprintHint')}</p> : null}
        {step === 1 ? (
          <form onSubmit={next} noValidate aria-labelledby="setup-step">
            <h2 id="setup-step" class="step">{t('setup.step1')}</h2>
            <Field name="setupCode" label={t('setup.code')} value={code} onInput={setCode} error={errors.code} hint={t('setup.codeHint')} autoComplete="off" large autoFocus required />
            <div class="actions">
              <button class="button" type="submit">{t('setup.next')}</button>
            </div>
          </form>
        ) : (
          <form onSubmit={(e) => void finish(e)} noValidate aria-labelledby="setup-step">
            <h2 id="setup-step" class="step">{t('setup.step2')}</h2>
            <Field name="password" type="password" label={t('setup.password')} value={pw} onInput={setPw} error={errors.pw} autoComplete="new-password" autoFocus required />
            <StrengthHint password={pw} />
            <Field name="passwordRepeat" type="password" label={t('setup.passwordRepeat')} value={pw2} onInput={setPw2} error={errors.pw2} autoComplete="new-password" required />
            <div class="actions">
              <button class="button secondary" type="button" onClick={() => setStep(1)}>{t('setup.back')}</button>
              <button class="button" type="submit" disabled={busy}>{t('setup.finish')}</button>
            </div>
          </form>
        )}
        <Notice kind="error">{message}</Notice>
      </div>
    </main>
  );
}
