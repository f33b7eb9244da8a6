import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, problemsFromText } from '../api.js';
import { useCapabilities } from '../app.js';
import { useConfigSection } from '../config-section.js';
import { useI18n } from '../i18n/index.js';
import type { MessageKey } from '../i18n/de.js';
import { Checkbox, Field, HealthDot, Notice, Select, errorText, splitList, usePoll, type NoticeKind } from '../ui.js';

interface Device {
  id: string;
  name: string;
  enabled: boolean;
  orderDir: string;
  resultDir: string;
  ownGdtId: string;
  deviceGdtId: string;
  charset: string;
  gdtVersion: string;
  fileNaming: string;
  orderFileBase: string;
  testCodes: string[];
  pathMappings: Array<{ devicePrefix: string; localDir: string }>;
}

interface GdtSection {
  devices: Device[];
  [k: string]: unknown;
}

interface DeviceView {
  id: string;
  state: string;
  reason?: string;
  orderDir?: string;
  resultDir?: string;
  watchMode?: string;
}

const NEW_DEVICE: Device = { id: '', name: '', enabled: true, orderDir: '', resultDir: '', ownGdtId: 'PRAXBOX', deviceGdtId: 'DEVICE', charset: 'iso-8859-1', gdtVersion: '02.10', fileNaming: 'fixed', orderFileBase: '', testCodes: [], pathMappings: [] };

/** Fictitious test patient for "Testauftrag senden" (never a real person). */
const TEST_PATIENT = { number: 'TEST-0001', surname: 'Muster', firstName: 'Test' };

export function GdtPage(): JSX.Element {
  const { t, reason } = useI18n();
  const caps = useCapabilities();
  const live = usePoll(() => api.command<{ devices: DeviceView[] }>('gdt.devices.list'), 5000);
  const cfg = useConfigSection<GdtSection>('gdt');
  const [checkErrors, setCheckErrors] = useState<Record<string, string>>({});
  const [checkNotice, setCheckNotice] = useState('');
  const [testNotice, setTestNotice] = useState<{ kind: NoticeKind; text: string } | undefined>(undefined);
  const [testCode, setTestCode] = useState<Record<string, string>>({});
  const section = cfg.value;
  const errors = { ...cfg.errors, ...checkErrors };
  const update = (i: number, patch: Partial<Device>): void => {
    if (section) cfg.set({ ...section, devices: section.devices.map((d, j) => (j === i ? { ...d, ...patch } : d)) });
  };
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!section) return;
    setCheckErrors({});
    setCheckNotice('');
    if (caps.has('gdt.config.check')) try {
      // Folders and cross-field rules first (the schema alone cannot see them).
      const check = await api.command<{ valid: boolean; problems: string[]; devices: Array<{ id: string; problems: string[] }> }>('gdt.config.check', { gdt: section });
      if (!check.valid) {
        const found: Record<string, string> = {};
        for (const p of problemsFromText(check.problems.join('\n'))) found[p.path.replace(/^\//, '')] ??= reason(p.message);
        for (const d of check.devices) {
          const i = section.devices.findIndex((x) => x.id === d.id);
          if (i >= 0 && d.problems.length > 0) found[`devices/${i}`] = d.problems.map(reason).join('; ');
        }
        setCheckErrors(found);
        const unplaced = check.problems.filter((p) => !/^\/\S*: /.test(p));
        setCheckNotice(unplaced.length > 0 ? unplaced.map(reason).join('; ') : t('common.fixErrors'));
        return;
      }
    } catch {
      // The check is a help; config.set below validates anyway.
    }
    if (await cfg.save()) live.reload();
  };
  const sendTest = async (d: Device): Promise<void> => {
    const code = testCode[d.id] ?? d.testCodes[0] ?? '';
    const orderId = `TEST-${Date.now().toString(36).toUpperCase()}`;
    try {
      const r = await api.command<{ status: string; waiting?: string }>('gdt.order', { deviceId: d.id, orderId, test: code || 'TEST', patient: TEST_PATIENT, comment: 'Testauftrag der Praxisbox' });
      const status = t(`gdt.status.${r.status}` as MessageKey) === `gdt.status.${r.status}` ? r.status : t(`gdt.status.${r.status}` as MessageKey);
      setTestNotice({ kind: r.status === 'written' ? 'success' : 'info', text: t('gdt.testSent', { order: orderId, status }) });
    } catch (err) {
      setTestNotice({ kind: 'error', text: errorText(err, t, reason) });
    }
  };
  const views = new Map((live.data?.devices ?? []).map((v) => [v.id, v]));
  return (
    <>
      <h1>{t('gdt.title')}</h1>
      <p class="lead">{t('gdt.intro')}</p>
      {section ? (
        <form onSubmit={(e) => void save(e)} noValidate>
          {section.devices.length === 0 ? <section class="card"><p class="empty">{t('gdt.none')}</p></section> : null}
          {section.devices.map((d, i) => {
            const v = views.get(d.id);
            const err = (f: string): string | undefined => errors[`devices/${i}/${f}`];
            return (
              <fieldset class="card entry" key={i} data-device={d.id}>
                <legend>{d.name || d.id || t('gdt.add')}</legend>
                {v ? <p class="status-line"><HealthDot level={v.state === 'ok' ? 'ok' : v.state === 'disabled' ? 'unknown' : 'degraded'} label={v.state === 'ok' ? t('gdt.running') : t('gdt.notRunning')} />{v.reason ? <span class="muted"> {reason(v.reason)}</span> : null}</p> : null}
                {errors[`devices/${i}`] ? <Notice kind="error">{errors[`devices/${i}`]}</Notice> : null}
                <div class="grid">
                  <Field name={`d${i}-name`} label={t('gdt.name')} value={d.name} onInput={(x) => update(i, { name: x })} error={err('name')} />
                  <Field name={`d${i}-id`} label={t('gdt.id')} value={d.id} onInput={(x) => update(i, { id: x })} error={err('id')} required />
                  <Field name={`d${i}-orderDir`} label={t('gdt.orderDir')} hint={t('gdt.dirHint')} value={d.orderDir} onInput={(x) => update(i, { orderDir: x })} error={err('orderDir')} />
                  <Field name={`d${i}-resultDir`} label={t('gdt.resultDir')} hint={t('gdt.dirHint')} value={d.resultDir} onInput={(x) => update(i, { resultDir: x })} error={err('resultDir')} />
                  <Field name={`d${i}-ownGdtId`} label={t('gdt.ownGdtId')} value={d.ownGdtId} onInput={(x) => update(i, { ownGdtId: x })} error={err('ownGdtId')} />
                  <Field name={`d${i}-deviceGdtId`} label={t('gdt.deviceGdtId')} value={d.deviceGdtId} onInput={(x) => update(i, { deviceGdtId: x })} error={err('deviceGdtId')} />
                  <Select name={`d${i}-charset`} label={t('gdt.charset')} value={d.charset} onChange={(x) => update(i, { charset: x })} error={err('charset')} options={[{ value: 'iso-8859-1', label: 'ISO 8859-1' }, { value: 'cp437', label: 'CP 437 (IBM)' }, { value: '7bit', label: '7 Bit (DIN 66003)' }]} />
                  <Select name={`d${i}-gdtVersion`} label={t('gdt.version')} value={d.gdtVersion} onChange={(x) => update(i, { gdtVersion: x })} error={err('gdtVersion')} options={['02.10', '02.00', '03.00'].map((x) => ({ value: x, label: x }))} />
                  <Select name={`d${i}-fileNaming`} label={t('gdt.fileNaming')} value={d.fileNaming} onChange={(x) => update(i, { fileNaming: x })} error={err('fileNaming')} options={[{ value: 'fixed', label: t('gdt.naming.fixed') }, { value: 'incrementing', label: t('gdt.naming.incrementing') }]} />
                  <Field name={`d${i}-orderFileBase`} label={t('gdt.orderFileBase')} hint={t('gdt.orderFileBaseHint')} value={d.orderFileBase} onInput={(x) => update(i, { orderFileBase: x })} error={err('orderFileBase')} />
                  <Field name={`d${i}-testCodes`} label={t('gdt.testCodes')} hint={t('gdt.testCodesHint')} value={d.testCodes.join(', ')} onInput={(x) => update(i, { testCodes: splitList(x) })} error={Object.entries(errors).find(([k]) => k.startsWith(`devices/${i}/testCodes`))?.[1]} />
                </div>
                <Checkbox name={`d${i}-enabled`} label={t('gdt.enabled')} checked={d.enabled} onChange={(x) => update(i, { enabled: x })} />
                <fieldset class="sub">
                  <legend>{t('gdt.pathMappings')}</legend>
                  {d.pathMappings.map((m, k) => (
                    <div class="grid mapping-row" key={k}>
                      <Field name={`d${i}-pm${k}-prefix`} label={t('gdt.devicePrefix')} value={m.devicePrefix} placeholder="C:\GDT\" onInput={(x) => update(i, { pathMappings: d.pathMappings.map((y, z) => (z === k ? { ...y, devicePrefix: x } : y)) })} error={err(`pathMappings/${k}/devicePrefix`)} />
                      <Field name={`d${i}-pm${k}-local`} label={t('gdt.localDir')} value={m.localDir} onInput={(x) => update(i, { pathMappings: d.pathMappings.map((y, z) => (z === k ? { ...y, localDir: x } : y)) })} error={err(`pathMappings/${k}/localDir`)} />
                      <button type="button" class="button secondary small" onClick={() => update(i, { pathMappings: d.pathMappings.filter((_y, z) => z !== k) })}>{t('common.remove')}</button>
                    </div>
                  ))}
                  <button type="button" class="button secondary small" onClick={() => update(i, { pathMappings: [...d.pathMappings, { devicePrefix: '', localDir: '' }] })}>{t('gdt.addMapping')}</button>
                </fieldset>
                <div class="actions split">
                  {v?.state === 'ok' && !cfg.dirty && caps.has('gdt.order') ? (
                    <div class="inline-test">
                      {d.testCodes.length > 1 ? <Select compact name={`d${i}-test`} label={t('gdt.testCode')} value={testCode[d.id] ?? d.testCodes[0] ?? ''} onChange={(x) => setTestCode({ ...testCode, [d.id]: x })} options={d.testCodes.map((c) => ({ value: c, label: c }))} /> : null}
                      <button type="button" class="button secondary" onClick={() => void sendTest(d)} title={t('gdt.testPatient')}>{t('gdt.sendTest')}</button>
                    </div>
                  ) : <span />}
                  <button type="button" class="button secondary small" onClick={() => cfg.set({ ...section, devices: section.devices.filter((_x, j) => j !== i) })}>{t('common.remove')}</button>
                </div>
              </fieldset>
            );
          })}
          <Notice kind={testNotice?.kind ?? 'info'} testId="gdt-test">{testNotice?.text ?? ''}</Notice>
          <div class="actions bar">
            <button type="button" class="button secondary" onClick={() => cfg.set({ ...section, devices: [...section.devices, { ...NEW_DEVICE }] })}>{t('gdt.add')}</button>
            <button type="submit" class="button" disabled={cfg.saving || !cfg.dirty}>{cfg.saving ? t('common.saving') : t('common.save')}</button>
          </div>
          <Notice kind="error">{checkNotice}</Notice>
          <Notice kind={cfg.notice?.kind ?? 'info'}>{cfg.notice?.text ?? ''}</Notice>
        </form>
      ) : (
        <p>{t('app.loading')}</p>
      )}
    </>
  );
}
