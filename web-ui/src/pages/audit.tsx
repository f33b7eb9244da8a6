import type { JSX } from 'preact';
import { api } from '../api.js';
import { useI18n } from '../i18n/index.js';
import type { MessageKey } from '../i18n/de.js';
import { Notice, Section, errorText, usePoll, TableWrap } from '../ui.js';

/** One line of the box's audit log (agent/web/audit-log.ts): who, when, what — never values. */
interface Entry {
  ts?: string;
  event?: string;
  user?: string;
  ip?: string;
  command?: string;
  ok?: boolean;
  code?: string;
  paths?: string[];
  sections?: string[];
}

export function AuditPage(): JSX.Element {
  const { t, reason, lang } = useI18n();
  const audit = usePoll(() => api.audit() as Promise<{ entries?: Entry[] }>, 10_000);
  const entries = [...(audit.data?.entries ?? [])].reverse();
  const what = (e: Entry): string => {
    const key = `audit.event.${e.event ?? ''}` as MessageKey;
    const label = t(key, { command: e.command ?? '' });
    const base = label === key ? (e.event ?? '') : label;
    const target = [...(e.paths ?? []), ...(e.sections ?? []).filter((s) => !(e.paths ?? []).includes(s))];
    return target.length > 0 ? `${base} · ${[...new Set(target)].join(', ')}` : base;
  };
  const result = (e: Entry): string => (e.ok === undefined ? '' : e.ok ? t('audit.ok') : `${t('audit.failed')}${e.code ? ` (${e.code})` : ''}`);
  return (
    <>
      <h1>{t('audit.title')}</h1>
      <p class="lead">{t('audit.intro')}</p>
      <Section title={t('audit.entries')}>
        {audit.error ? <Notice kind="error">{errorText(audit.error, t, reason)}</Notice> : null}
        {audit.data && entries.length === 0 ? <p class="empty">{t('audit.none')}</p> : null}
        {entries.length > 0 ? (
          <TableWrap label={t('audit.entries')}>
            <table data-testid="audit">
              <thead><tr><th scope="col">{t('audit.time')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.what')}</th><th scope="col">{t('audit.result')}</th></tr></thead>
              <tbody>
                {entries.map((e, i) => (
                  <tr key={i}>
                    <td class="nowrap">{e.ts ? new Date(e.ts).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB') : ''}</td>
                    <td>{e.user ?? t('common.none')}{e.ip ? <span class="muted small block">{e.ip}</span> : null}</td>
                    <td>{what(e)}</td>
                    <td>{result(e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>
    </>
  );
}
