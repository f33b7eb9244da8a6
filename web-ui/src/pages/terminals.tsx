import type { JSX } from 'preact';
import { api } from '../api.js';
import { useConfigSection } from '../config-section.js';
import { useI18n } from '../i18n/index.js';
import { Checkbox, Field, HealthDot, Notice, Section, errorText, splitList, usePoll } from '../ui.js';

interface TerminalView {
  id: string;
  name: string;
  location: string;
  configured: boolean;
  connected: boolean;
  readerName: string;
  suggestedReaderName?: string;
  cardPresent: boolean;
  source: string;
}

interface TerminalConfig {
  id: string;
  name: string;
  location: string;
  workstationIds: string[];
  source: 'pcsc' | 'konnektor' | 'mobile';
  readerName: string;
  apduMode?: string;
}

interface CardsSection {
  terminals: TerminalConfig[];
  readUnassigned: boolean;
  [other: string]: unknown;
}

export function TerminalsPage(): JSX.Element {
  const { t, reason } = useI18n();
  const live = usePoll(() => api.command<{ service: string; terminals: TerminalView[] }>('terminals.list'), 2000);
  const cfg = useConfigSection<CardsSection>('cards');
  const section = cfg.value;
  const update = (i: number, patch: Partial<TerminalConfig>): void => {
    if (!section) return;
    cfg.set({ ...section, terminals: section.terminals.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  };
  const assign = (v: TerminalView): void => {
    if (!section) return;
    cfg.set({ ...section, terminals: [...section.terminals, { id: '', name: '', location: '', workstationIds: [], source: 'pcsc', readerName: v.suggestedReaderName ?? v.readerName }] });
  };
  return (
    <>
      <h1>{t('terminals.title')}</h1>
      <p class="lead">{t('terminals.intro')}</p>
      <Section title={t('terminals.detected')} actions={live.data ? <span class="muted">{t('terminals.service', { state: live.data.service })}</span> : null}>
        {live.error ? <Notice kind="error">{errorText(live.error, t, reason)}</Notice> : null}
        {live.data && live.data.terminals.length === 0 ? <p class="empty">{t('terminals.none')}</p> : null}
        <ul class="tiles" data-testid="readers">
          {(live.data?.terminals ?? []).map((v) => (
            <li key={`${v.id}-${v.readerName}`} class="tile">
              <div class="tile-head">
                <strong>{v.configured ? v.name || v.id : t('terminals.unassigned')}</strong>
                <HealthDot level={v.connected ? 'ok' : 'degraded'} label={v.connected ? t('terminals.connected') : t('terminals.notConnected')} />
              </div>
              <p class="mono small break">{v.readerName}</p>
              <p class="muted">{v.location}{v.location ? ' · ' : ''}{v.cardPresent ? t('terminals.cardPresent') : t('terminals.noCard')}</p>
              {!v.configured && section && !section.terminals.some((c) => c.readerName === (v.suggestedReaderName ?? v.readerName)) ? (
                <button type="button" class="button secondary small" onClick={() => assign(v)}>{t('terminals.assign')}</button>
              ) : null}
            </li>
          ))}
        </ul>
      </Section>
      <Section title={t('terminals.configured')}>
        {section ? (
          <form onSubmit={(e) => { e.preventDefault(); void cfg.save(); }} noValidate>
            {section.terminals.length === 0 ? <p class="empty">{t('terminals.noneConfigured')}</p> : null}
            {section.terminals.map((term, i) => (
              <fieldset class="entry" key={i}>
                <legend>{term.name || term.readerName || `#${i + 1}`}</legend>
                <div class="grid">
                  <Field name={`t${i}-name`} label={t('terminals.name')} value={term.name} onInput={(v) => update(i, { name: v })} error={cfg.errors[`terminals/${i}/name`]} />
                  <Field name={`t${i}-location`} label={t('terminals.location')} value={term.location} onInput={(v) => update(i, { location: v })} error={cfg.errors[`terminals/${i}/location`]} />
                  <Field name={`t${i}-ws`} label={t('terminals.workstations')} hint={t('terminals.workstationsHint')} value={term.workstationIds.join(', ')} onInput={(v) => update(i, { workstationIds: splitList(v) })} error={Object.entries(cfg.errors).find(([k]) => k.startsWith(`terminals/${i}/workstationIds`))?.[1]} />
                  <Field name={`t${i}-id`} label={t('terminals.id')} hint={t('terminals.idHint')} value={term.id} onInput={(v) => update(i, { id: v })} error={cfg.errors[`terminals/${i}/id`]} />
                  <Field name={`t${i}-reader`} label={t('terminals.readerName')} value={term.readerName} onInput={(v) => update(i, { readerName: v })} error={cfg.errors[`terminals/${i}/readerName`]} />
                </div>
                <div class="actions end">
                  <button type="button" class="button secondary small" onClick={() => cfg.set({ ...section, terminals: section.terminals.filter((_x, j) => j !== i) })}>{t('common.remove')}</button>
                </div>
              </fieldset>
            ))}
            <Checkbox name="readUnassigned" label={t('terminals.readUnassigned')} checked={section.readUnassigned} onChange={(v) => cfg.set({ ...section, readUnassigned: v })} />
            <div class="actions">
              <button type="submit" class="button" disabled={cfg.saving || !cfg.dirty}>{cfg.saving ? t('common.saving') : t('common.save')}</button>
            </div>
          </form>
        ) : (
          <p>{t('app.loading')}</p>
        )}
        <Notice kind={cfg.notice?.kind ?? 'info'}>{cfg.notice?.text ?? ''}</Notice>
      </Section>
    </>
  );
}
