import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useCapabilities } from '../app.js';
import { useI18n } from '../i18n/index.js';
import { QrCode } from '../qr.js';
import { HealthDot, Notice, Section, errorText, usePoll } from '../ui.js';
import { duration } from './overview.js';

interface CloudStatus {
  link: string;
  target?: string;
  lastError?: string;
  drain?: { sent?: number } | null;
}

export interface PairStatus {
  state: 'unpaired' | 'pending' | 'paired' | 'expired' | 'denied' | 'failed';
  userCode?: string;
  verificationUri?: string;
  verificationUriComplete?: string;
  expiresAt?: string;
  intervalSeconds?: number;
  account?: string | { name?: string; id?: string };
  error?: { code: string; message: string };
}

const accountName = (a: PairStatus['account']): string | undefined => (typeof a === 'string' ? a : (a?.name ?? a?.id));

export function CloudPage(): JSX.Element {
  const { t, reason } = useI18n();
  const caps = useCapabilities();
  const link = usePoll(async () => {
    const [cloud, outbox] = await Promise.all([api.command<CloudStatus>('cloud.status'), api.command<{ depth?: number }>('outbox.stats').catch(() => ({ depth: undefined }))]);
    return { cloud, depth: outbox.depth };
  }, 3000);
  const c = link.data?.cloud;
  return (
    <>
      <h1>{t('cloud.title')}</h1>
      <Section title={t('cloud.link')}>
        {link.error ? <Notice kind="error">{errorText(link.error, t, reason)}</Notice> : null}
        <dl class="facts wide" data-testid="cloud-link">
          <dt>{t('cloud.link')}</dt>
          <dd>{c ? <HealthDot level={c.link === 'connected' ? 'ok' : 'degraded'} label={c.link === 'connected' ? t('cloud.connected') : t('cloud.disconnected')} /> : t('app.loading')}</dd>
          <dt>{t('cloud.target')}</dt>
          <dd class="mono">{c?.target ?? t('common.none')}</dd>
          <dt>{t('cloud.lastError')}</dt>
          <dd>{c?.lastError ? reason(c.lastError) : t('common.none')}</dd>
          <dt>{t('cloud.outbox')}</dt>
          <dd data-testid="outbox-depth">{link.data?.depth ?? t('common.none')}</dd>
        </dl>
      </Section>
      {caps.has('cloud.pair.start') && caps.has('cloud.pair.status') ? <Pairing onChange={link.reload} canUnpair={caps.has('cloud.unpair')} /> : null}
    </>
  );
}

/** The device flow: a short code (large and as QR) someone approves in the practice's cloud account. */
function Pairing(p: { onChange: () => void; canUnpair: boolean }): JSX.Element {
  const { t, reason } = useI18n();
  const [status, setStatus] = useState<PairStatus | undefined>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState('');
  const [now, setNow] = useState(Date.now());
  const [justPaired, setJustPaired] = useState(false);

  const refresh = async (): Promise<void> => {
    try {
      const s = await api.command<PairStatus>('cloud.pair.status');
      setStatus((prev) => {
        if (prev?.state === 'pending' && s.state === 'paired') {
          setJustPaired(true);
          p.onChange();
        }
        return s;
      });
    } catch (err) {
      setError(errorText(err, t, reason));
    }
  };
  useEffect(() => {
    void refresh();
  }, []);
  // Poll while a code is pending, at the interval the cloud asked for; tick the countdown each second.
  useEffect(() => {
    if (status?.state !== 'pending') return;
    const poll = window.setInterval(() => void refresh(), Math.max(1, Math.min(status.intervalSeconds ?? 2, 5)) * 1000);
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      window.clearInterval(poll);
      window.clearInterval(tick);
    };
  }, [status?.state, status?.userCode]);

  const start = async (): Promise<void> => {
    setBusy(true);
    setError('');
    setDone('');
    setJustPaired(false);
    try {
      setStatus(await api.command<PairStatus>('cloud.pair.start'));
      setNow(Date.now());
    } catch (err) {
      setError(errorText(err, t, reason));
    } finally {
      setBusy(false);
    }
  };
  const unpair = async (): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      await api.command('cloud.unpair', { confirm: true });
      setConfirming(false);
      setDone(t('cloud.unpaired.done'));
      setJustPaired(false);
      await refresh();
      p.onChange();
    } catch (err) {
      setError(errorText(err, t, reason));
    } finally {
      setBusy(false);
    }
  };

  const s = status;
  const remaining = s?.expiresAt ? Math.max(0, Math.round((Date.parse(s.expiresAt) - now) / 1000)) : undefined;
  const outcome = (): JSX.Element | null => {
    if (!s) return null;
    if (s.state === 'expired' || (s.state === 'failed' && /expired/i.test(s.error?.code ?? ''))) return <Notice kind="warning" testId="pair-outcome">{t('cloud.expired')}</Notice>;
    if (s.state === 'denied') return <Notice kind="error" testId="pair-outcome">{t('cloud.denied')}</Notice>;
    if (s.state === 'failed' && /used|consumed/i.test(`${s.error?.code ?? ''} ${s.error?.message ?? ''}`)) return <Notice kind="error" testId="pair-outcome">{t('cloud.used')}</Notice>;
    if (s.state === 'failed') return <Notice kind="error" testId="pair-outcome">{t('cloud.failed', { message: reason(s.error?.message ?? '') })}</Notice>;
    return null;
  };

  return (
    <Section title={t('cloud.pairing')}>
      <div data-testid="pair-state" data-state={s?.state ?? 'loading'}>
        {s?.state === 'paired' ? (
          <>
            <Notice kind="success" testId="pair-outcome">{justPaired ? t('cloud.success') : ''}</Notice>
            <p class="status-line"><HealthDot level="ok" label={accountName(s.account) ? t('cloud.paired', { account: accountName(s.account) ?? '' }) : t('cloud.pairedNoAccount')} /></p>
            {!p.canUnpair ? null : confirming ? (
              <div class="confirm" role="alertdialog" aria-labelledby="unpair-q">
                <p id="unpair-q">{t('cloud.unpairConfirm')}</p>
                <div class="actions">
                  <button type="button" class="button secondary" onClick={() => setConfirming(false)}>{t('common.cancel')}</button>
                  <button type="button" class="button danger" disabled={busy} onClick={() => void unpair()}>{t('cloud.unpairYes')}</button>
                </div>
              </div>
            ) : (
              <div class="actions">
                <button type="button" class="button danger" onClick={() => setConfirming(true)}>{t('cloud.unpair')}</button>
              </div>
            )}
          </>
        ) : s?.state === 'pending' && s.userCode ? (
          <div class="pairing">
            <div class="pair-code-box">
              <p>{t('cloud.instructions')}</p>
              <p class="pair-label">{t('cloud.codeLabel')}</p>
              <p class="pair-code mono" data-testid="pair-code">{s.userCode}</p>
              <dl class="facts">
                <dt>{t('cloud.url')}</dt>
                <dd class="mono break">{s.verificationUri ?? ''}</dd>
              </dl>
              <p class="countdown" aria-live="off">{remaining !== undefined ? t('cloud.expiresIn', { time: duration(remaining) }) : ''}</p>
              <p class="waiting" role="status"><span class="spinner" aria-hidden="true" />{t('cloud.waiting')}</p>
            </div>
            <QrCode text={s.verificationUriComplete ?? s.verificationUri ?? s.userCode} label={t('cloud.qr')} />
          </div>
        ) : (
          <>
            {outcome()}
            <p>{t('cloud.unpaired')}</p>
            <div class="actions">
              <button type="button" class="button" disabled={busy} onClick={() => void start()}>{s && s.state !== 'unpaired' ? t('cloud.retry') : t('cloud.connect')}</button>
            </div>
          </>
        )}
      </div>
      <Notice kind="success">{done}</Notice>
      <Notice kind="error">{error}</Notice>
    </Section>
  );
}
