import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useCapabilities } from '../app.js';
import { useI18n } from '../i18n/index.js';
import type { MessageKey } from '../i18n/de.js';
import { HealthDot, Notice, Section, errorText, usePoll, type HealthLevel } from '../ui.js';
import { LogTail } from './log-tail.js';

interface Health {
  health: HealthLevel;
  modules: Array<{ name: string; state: string; health: HealthLevel; reason?: string }>;
  uptimeSeconds: number;
  version: string;
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${Math.floor(seconds % 60)} s`;
}

/** Health of the box and each module, resync, diagnostics and the live log. */
export function OverviewPage(): JSX.Element {
  const { t, reason } = useI18n();
  const caps = useCapabilities();
  const health = usePoll(() => api.command<Health>('health.get'), 4000);
  const names = usePoll(() => api.command<Array<{ id: string; name: string }>>('config.get', { path: 'cards.terminals' }).catch(() => []), 0);
  const [sync, setSync] = useState<{ kind: 'success' | 'error' | 'warning'; text: string } | undefined>(undefined);
  const [syncing, setSyncing] = useState(false);
  const h = health.data;
  /** Terminal ids in reasons become their display names ("Kartenterminal 'Empfang 1' …"). */
  const withNames = (text: string): string => {
    const m = /^(card terminal\(s\) not connected: )(.+)$/.exec(text);
    if (!m) return text;
    const list = (m[2] ?? '').split(', ').map((id) => `'${names.data?.find((x) => x.id === id)?.name || id}'`);
    return `${m[1]}${list.join(', ')}`;
  };
  const resync = async (): Promise<void> => {
    setSyncing(true);
    setSync(undefined);
    try {
      const r = await api.command<{ resynced: boolean; outboxDepth?: number }>('resync');
      setSync(r.resynced ? { kind: 'success', text: t('overview.synced', { depth: r.outboxDepth ?? 0 }) } : { kind: 'warning', text: t('overview.syncNotConnected') });
    } catch (err) {
      setSync({ kind: 'error', text: errorText(err, t, reason) });
    } finally {
      setSyncing(false);
    }
  };
  return (
    <>
      <h1>{t('overview.title')}</h1>
      <div class={`banner banner-${h?.health ?? 'unknown'}`} data-testid="overall-health" data-health={h?.health ?? 'unknown'}>
        <HealthDot level={h?.health ?? 'unknown'} />
        <div class="banner-meta">
          {h ? <span>{t('overview.version', { version: h.version })}</span> : null}
          {h ? <span>{t('overview.uptime', { time: duration(h.uptimeSeconds) })}</span> : null}
        </div>
        <div class="banner-actions">
          {caps.has('resync') ? <button type="button" class="button" onClick={() => void resync()} disabled={syncing}>{syncing ? t('overview.syncing') : t('overview.sync')}</button> : null}
          <a class="button secondary" href="/api/diagnostics" download title={t('overview.diagnosticsHint')}>{t('overview.diagnostics')}</a>
        </div>
      </div>
      <Notice kind={sync?.kind ?? 'info'} testId="sync-result">{sync?.text ?? ''}</Notice>
      {health.error ? <Notice kind="error">{errorText(health.error, t, reason)}</Notice> : null}
      <Section title={t('overview.modules')}>
        <ul class="modules" data-testid="modules">
          {(h?.modules ?? []).map((m) => (
            <li key={m.name} class={`module module-${m.state === 'disabled' ? 'disabled' : m.health}`} data-module={m.name}>
              <div class="module-head">
                <strong>{t(`module.${m.name}` as MessageKey) === `module.${m.name}` ? m.name : t(`module.${m.name}` as MessageKey)}</strong>
                <HealthDot level={m.state === 'disabled' ? 'unknown' : m.health} label={t(`state.${m.state}` as MessageKey)} />
              </div>
              {m.reason ? <p class="reason">{reason(withNames(m.reason))}</p> : null}
            </li>
          ))}
        </ul>
      </Section>
      <LogTail />
    </>
  );
}
