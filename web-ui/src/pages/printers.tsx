import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useCapabilities } from '../app.js';
import { useConfigSection } from '../config-section.js';
import { useI18n } from '../i18n/index.js';
import type { MessageKey } from '../i18n/de.js';
import { Field, HealthDot, Notice, Section, Select, errorText, usePoll, TableWrap, type NoticeKind } from '../ui.js';

interface PrinterView {
  id: string;
  name: string;
  uri: string;
  reachable: boolean | null;
  error?: string;
  state?: { state: string; reasons: string[] };
  capabilities?: { makeAndModel?: string; trays: string[]; sides: string[]; duplex: boolean; color: boolean };
  warnings: string[];
}

interface DocTypeView {
  docType: string;
  label: string;
  printerId: string | null;
  via?: string;
}

interface Mapping {
  printer: string;
  tray: string;
  mediaSize: string;
  sides: string;
  copies: number;
  color: string;
}

interface PrintingSection {
  printers: Array<{ id: string; name: string; uri: string; [k: string]: unknown }>;
  documentTypes: Record<string, Mapping>;
  [k: string]: unknown;
}

const EMPTY_MAPPING: Mapping = { printer: '', tray: '', mediaSize: '', sides: '', copies: 1, color: '' };

export function PrintersPage(): JSX.Element {
  const { t, reason } = useI18n();
  const caps = useCapabilities();
  const list = usePoll(() => api.command<{ printers: PrinterView[]; documentTypes: DocTypeView[] }>('printers.list'), 10_000);
  const cfg = useConfigSection<PrintingSection>('printing');
  const [draft, setDraft] = useState({ id: '', name: '', uri: '' });
  const [found, setFound] = useState<Array<{ name: string; uri: string; makeAndModel?: string }> | undefined>(undefined);
  const [searching, setSearching] = useState(false);
  const [lastAction, setLastAction] = useState<'add' | 'mapping' | 'list'>('add');
  const [jobNotice, setJobNotice] = useState<{ kind: 'info' | 'success' | 'error'; text: string } | undefined>(undefined);
  const section = cfg.value;
  const newIndex = section?.printers.length ?? 0;

  const discover = async (): Promise<void> => {
    setSearching(true);
    try {
      setFound((await api.command<{ printers: Array<{ name: string; uri: string; makeAndModel?: string }> }>('printers.discover', { durationMs: 2000 })).printers);
    } catch (err) {
      setJobNotice({ kind: 'error', text: errorText(err, t, reason) });
    } finally {
      setSearching(false);
    }
  };
  const add = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!section) return;
    setLastAction('add');
    const ok = await cfg.save({ ...section, printers: [...section.printers, { id: draft.id.trim(), name: draft.name.trim(), uri: draft.uri.trim() }] });
    if (ok) {
      setDraft({ id: '', name: '', uri: '' });
      setFound(undefined);
      list.reload();
    } else await cfg.reload().then(() => undefined);
  };
  const remove = async (id: string): Promise<void> => {
    if (!section || !window.confirm(t('printers.removeConfirm', { name: id }))) return;
    setLastAction('list');
    const documentTypes = Object.fromEntries(Object.entries(section.documentTypes).map(([k, m]) => [k, m.printer === id ? { ...m, printer: '', tray: '' } : m]));
    if (await cfg.save({ ...section, printers: section.printers.filter((p) => p.id !== id), documentTypes })) list.reload();
  };
  const testPage = async (p: PrinterView): Promise<void> => {
    setJobNotice(undefined);
    try {
      const job = await api.command<{ jobId: string; state: string }>('print.test', { printerId: p.id });
      const show = (state: string): void =>
        setJobNotice({ kind: state === 'failed' || state === 'canceled' ? 'error' : state === 'completed' ? 'success' : 'info', text: t('printers.job', { job: p.name || p.id, state: t(`printers.job.${state}` as MessageKey) }) });
      show(job.state);
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => window.setTimeout(r, 1000));
        const now = await api.command<{ state: string }>('print.jobs', { jobId: job.jobId });
        show(now.state);
        if (['completed', 'failed', 'canceled'].includes(now.state)) break;
      }
    } catch (err) {
      setJobNotice({ kind: 'error', text: errorText(err, t, reason) });
    }
  };

  const addErr = (field: string): string | undefined => cfg.errors[`printers/${newIndex}/${field}`];
  const printers = list.data?.printers ?? [];
  return (
    <>
      <h1>{t('printers.title')}</h1>
      <Section title={t('printers.configured')}>
        {list.error ? <Notice kind="error">{errorText(list.error, t, reason)}</Notice> : null}
        {list.data && printers.length === 0 ? <p class="empty">{t('printers.none')}</p> : null}
        <ul class="tiles" data-testid="printers">
          {printers.map((p) => (
            <li class="tile" key={p.id} data-printer={p.id}>
              <div class="tile-head">
                <strong>{p.name || p.id}</strong>
                <HealthDot level={p.reachable === null ? 'unknown' : p.reachable ? 'ok' : 'fault'} label={p.reachable === null ? t('printers.unknown') : p.reachable ? t('printers.reachable') : t('printers.unreachable')} />
              </div>
              <p class="mono small break">{p.uri}</p>
              {p.capabilities ? (
                <dl class="facts compact">
                  <dt>{t('printers.model')}</dt>
                  <dd>{p.capabilities.makeAndModel ?? t('common.none')}</dd>
                  <dt>{t('printers.trays')}</dt>
                  <dd>{p.capabilities.trays.join(', ') || t('common.none')}</dd>
                  <dt>{t('printers.duplex')}</dt>
                  <dd>{p.capabilities.duplex ? t('common.yes') : t('common.no')}</dd>
                  <dt>{t('printers.color')}</dt>
                  <dd>{p.capabilities.color ? t('common.yes') : t('common.no')}</dd>
                </dl>
              ) : null}
              {p.warnings.length > 0 ? <ul class="warnings" aria-label={t('printers.warnings')}>{p.warnings.map((w) => <li key={w}>{w}</li>)}</ul> : null}
              <div class="actions">
                {caps.has('print.test') ? <button type="button" class="button small" onClick={() => void testPage(p)}>{t('printers.test')}</button> : null}
                <button type="button" class="button secondary small" onClick={() => void remove(p.id)}>{t('common.remove')}</button>
              </div>
            </li>
          ))}
        </ul>
        <Notice kind={jobNotice?.kind ?? 'info'} testId="job-notice">{jobNotice?.text ?? ''}</Notice>
        {lastAction === 'list' ? <Notice kind={cfg.notice?.kind ?? 'info'}>{cfg.notice?.text ?? ''}</Notice> : null}
      </Section>

      <Section title={t('printers.add')} actions={caps.has('printers.discover') ? <button type="button" class="button secondary small" disabled={searching} onClick={() => void discover()}>{searching ? t('printers.discovering') : t('printers.discover')}</button> : null}>
        {found ? (
          found.length === 0 ? <p class="empty">{t('printers.noneFound')}</p> : (
            <ul class="found" aria-label={t('printers.discovered')}>
              {found.map((f) => (
                <li key={f.uri}>
                  <span><strong>{f.name}</strong> <span class="mono small">{f.uri}</span></span>
                  <button type="button" class="button secondary small" onClick={() => setDraft({ id: draft.id || f.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40), name: draft.name || f.name.slice(0, 64), uri: f.uri })}>{t('printers.use')}</button>
                </li>
              ))}
            </ul>
          )
        ) : null}
        <form onSubmit={(e) => void add(e)} noValidate data-testid="add-printer">
          <div class="grid">
            <Field name="printerName" label={t('printers.name')} value={draft.name} onInput={(v) => setDraft({ ...draft, name: v })} error={addErr('name')} />
            <Field name="printerId" label={t('printers.id')} hint={t('printers.idHint')} value={draft.id} onInput={(v) => setDraft({ ...draft, id: v })} error={addErr('id')} required />
            <Field name="printerUri" type="url" label={t('printers.uri')} hint={t('printers.uriHint')} value={draft.uri} onInput={(v) => setDraft({ ...draft, uri: v })} error={addErr('uri')} required />
          </div>
          <div class="actions">
            <button type="submit" class="button" disabled={cfg.saving}>{t('printers.add')}</button>
          </div>
        </form>
        {lastAction === 'add' ? <Notice kind={cfg.notice?.kind ?? 'info'}>{cfg.notice?.text ?? ''}</Notice> : null}
      </Section>

      {section && list.data && printers.length > 0 ? <MappingTable section={section} docTypes={list.data.documentTypes} printers={printers} onSave={async (documentTypes) => {
        setLastAction('mapping');
        if (await cfg.save({ ...section, documentTypes })) list.reload();
      }} errors={cfg.errors} saving={cfg.saving} notice={lastAction === 'mapping' ? cfg.notice : undefined} /> : null}
    </>
  );
}

function MappingTable(p: { section: PrintingSection; docTypes: DocTypeView[]; printers: PrinterView[]; onSave: (m: Record<string, Mapping>) => Promise<void>; errors: Record<string, string>; saving: boolean; notice: { kind: NoticeKind; text: string } | undefined }): JSX.Element {
  const { t } = useI18n();
  const [rows, setRows] = useState<Record<string, Mapping>>(() => ({ ...p.section.documentTypes }));
  const set = (docType: string, patch: Partial<Mapping>): void => setRows({ ...rows, [docType]: { ...EMPTY_MAPPING, ...rows[docType], ...patch } });
  const printerOptions = [{ value: '', label: t('printers.notPrinted') }, ...p.printers.map((x) => ({ value: x.id, label: x.name || x.id }))];
  return (
    <Section title={t('printers.mapping')}>
      <p class="lead">{t('printers.mappingIntro')}</p>
      <form onSubmit={(e) => { e.preventDefault(); void p.onSave(rows); }} noValidate>
        <TableWrap label={t('printers.mapping')}>
          <table class="mapping" data-testid="mapping">
            <thead>
              <tr>
                <th scope="col">{t('printers.docType')}</th>
                <th scope="col">{t('printers.printer')}</th>
                <th scope="col">{t('printers.tray')}</th>
                <th scope="col">{t('printers.sides')}</th>
              </tr>
            </thead>
            <tbody>
              {p.docTypes.map((d) => {
                const m = { ...EMPTY_MAPPING, ...rows[d.docType] };
                const printer = p.printers.find((x) => x.id === m.printer);
                const caps = printer?.capabilities;
                const trays = [...new Set([...(caps?.trays ?? []), ...(m.tray ? [m.tray] : [])])];
                const sides = [...new Set([...(caps?.sides ?? []), ...(m.sides ? [m.sides] : [])])];
                const err = (f: string): string | undefined => p.errors[`documentTypes/${d.docType}/${f}`];
                return (
                  <tr key={d.docType} data-doctype={d.docType}>
                    <th scope="row">{d.label}{m.printer === '' && d.via === 'other' && d.docType !== 'other' ? <span class="muted small block">{t('printers.viaOther')}</span> : null}</th>
                    <td><Select compact name={`map-${d.docType}-printer`} label={`${d.label}: ${t('printers.printer')}`} value={m.printer} options={printerOptions} onChange={(v) => set(d.docType, { printer: v, tray: '', sides: '' })} error={err('printer')} /></td>
                    <td><Select compact name={`map-${d.docType}-tray`} label={`${d.label}: ${t('printers.tray')}`} value={m.tray} options={[{ value: '', label: t('printers.default') }, ...trays.map((x) => ({ value: x, label: x }))]} onChange={(v) => set(d.docType, { tray: v })} error={err('tray')} /></td>
                    <td><Select compact name={`map-${d.docType}-sides`} label={`${d.label}: ${t('printers.sides')}`} value={m.sides} options={[{ value: '', label: t('printers.default') }, ...sides.map((x) => ({ value: x, label: t(`printers.sides.${x}` as MessageKey) }))]} onChange={(v) => set(d.docType, { sides: v })} error={err('sides')} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
        <div class="actions">
          <button type="submit" class="button" disabled={p.saving}>{t('printers.saveMapping')}</button>
        </div>
      </form>
      <Notice kind={p.notice?.kind ?? 'info'}>{p.notice?.text ?? ''}</Notice>
    </Section>
  );
}
