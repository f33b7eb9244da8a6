import type { JSX } from 'preact';
import { api } from '../api.js';
import { useI18n } from '../i18n/index.js';
import { Notice, Section, errorText, usePoll } from '../ui.js';

type Entry = Record<string, unknown>;

const pick = (e: Entry, keys: string[]): string => {
  for (const k of keys) {
    const v = e[k];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return '';
};

/** A short, readable "what" for an entry (the server keeps no patient data in the audit log). */
function what(e: Entry): string {
  const action = pick(e, ['action', 'command', 'event', 'what', 'type']);
  const target = pick(e, ['path', 'target', 'section', 'detail', 'summary']);
  const sections = Array.isArray(e['sections']) ? (e['sections'] as unknown[]).join(', ') : '';
  return [action, target || sections].filter(Boolean).join(' · ');
}

export function AuditPage(): JSX.Element {
  const { t, reason } = useI18n();
  const audit = usePoll(() => api.audit(), 10_000);
  const raw = audit.data as { entries?: Entry[] } | Entry[] | undefined;
  const entries = [...(Array.isArray(raw) ? raw : (raw?.entries ?? []))].reverse();
  return (
    <>
      <h1>{t('audit.title')}</h1>
      <p class="lead">{t('audit.intro')}</p>
      <Section title={t('audit.title')}>
        {audit.error ? <Notice kind="error">{errorText(audit.error, t, reason)}</Notice> : null}
        {audit.data && entries.length === 0 ? <p class="empty">{t('audit.none')}</p> : null}
        {entries.length > 0 ? (
          <div class="table-wrap">
            <table data-testid="audit">
              <thead><tr><th scope="col">{t('audit.time')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.what')}</th><th scope="col">{t('audit.result')}</th></tr></thead>
              <tbody>
                {entries.map((e, i) => {
                  const time = pick(e, ['time', 'at', 'ts', 'timestamp']);
                  return (
                    <tr key={i}>
                      <td class="nowrap">{time ? new Date(time).toLocaleString() : ''}</td>
                      <td>{pick(e, ['who', 'user', 'actor', 'source'])}</td>
                      <td>{what(e)}</td>
                      <td>{pick(e, ['result', 'outcome', 'status'])}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>
    </>
  );
}
