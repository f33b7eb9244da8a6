import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useI18n } from '../i18n/index.js';
import { Checkbox, Field, Notice, Section, errorText, fieldErrors, usePoll, type NoticeKind, TableWrap } from '../ui.js';

type Right = 'events' | 'commands';

export function BrokerPage(): JSX.Element {
  const { t, reason } = useI18n();
  const list = usePoll(() => api.command<{ users: Array<{ name: string; rights: Right[] }> }>('broker.users.list'), 0);
  const [draft, setDraft] = useState<{ name: string; password: string; rights: Right[] }>({ name: '', password: '', rights: ['events'] });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<{ kind: NoticeKind; text: string } | undefined>(undefined);
  const existing = list.data?.users.some((u) => u.name === draft.name) ?? false;
  const toggle = (r: Right, on: boolean): void => setDraft({ ...draft, rights: on ? [...new Set([...draft.rights, r])] : draft.rights.filter((x) => x !== r) });
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    setNotice(undefined);
    try {
      await api.command('broker.users.set', { name: draft.name.trim(), rights: draft.rights, ...(draft.password !== '' ? { password: draft.password } : {}) });
      setErrors({});
      setDraft({ name: '', password: '', rights: ['events'] });
      setNotice({ kind: 'success', text: t('common.saved') });
      list.reload();
    } catch (err) {
      const found = fieldErrors(err, '/', reason);
      setErrors(found);
      setNotice({ kind: 'error', text: Object.keys(found).length > 0 ? t('common.fixErrors') : errorText(err, t, reason) });
    }
  };
  const remove = async (name: string): Promise<void> => {
    if (!window.confirm(t('broker.removeConfirm', { name }))) return;
    try {
      await api.command('broker.users.remove', { name });
      list.reload();
    } catch (err) {
      setNotice({ kind: 'error', text: errorText(err, t, reason) });
    }
  };
  return (
    <>
      <h1>{t('broker.title')}</h1>
      <p class="lead">{t('broker.intro')}</p>
      <Section title={t('broker.users')}>
        {list.error ? <Notice kind="error">{errorText(list.error, t, reason)}</Notice> : null}
        {list.data && list.data.users.length === 0 ? <p class="empty">{t('broker.none')}</p> : null}
        {list.data && list.data.users.length > 0 ? (
          <TableWrap label={t('broker.users')}>
            <table data-testid="broker-users">
              <thead><tr><th scope="col">{t('broker.name')}</th><th scope="col">{t('broker.rights')}</th><th scope="col"><span class="visually-hidden">{t('common.edit')}</span></th></tr></thead>
              <tbody>
                {list.data.users.map((u) => (
                  <tr key={u.name}>
                    <td class="mono">{u.name}</td>
                    <td>{u.rights.map((r) => <span class="tag" key={r}>{t(`broker.right.${r}`)}</span>)}</td>
                    <td class="row-actions">
                      <button type="button" class="button secondary small" onClick={() => setDraft({ name: u.name, password: '', rights: u.rights })}>{t('common.edit')}</button>
                      <button type="button" class="button secondary small" onClick={() => void remove(u.name)}>{t('common.remove')}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>
      <Section title={existing ? `${t('common.edit')}: ${draft.name}` : t('broker.add')}>
        <form onSubmit={(e) => void save(e)} noValidate>
          <div class="grid">
            <Field name="brokerName" label={t('broker.name')} value={draft.name} onInput={(v) => setDraft({ ...draft, name: v })} error={errors['name']} autoComplete="off" required />
            <Field name="brokerPassword" type="password" label={t('broker.password')} hint={t('broker.passwordHint')} value={draft.password} onInput={(v) => setDraft({ ...draft, password: v })} error={errors['password']} autoComplete="new-password" />
          </div>
          <fieldset class="sub">
            <legend>{t('broker.rights')}</legend>
            <Checkbox name="right-events" label={t('broker.right.events')} checked={draft.rights.includes('events')} onChange={(v) => toggle('events', v)} />
            <Checkbox name="right-commands" label={t('broker.right.commands')} checked={draft.rights.includes('commands')} onChange={(v) => toggle('commands', v)} />
            {errors['rights'] ? <p class="field-error">{errors['rights']}</p> : null}
          </fieldset>
          <div class="actions">
            <button type="submit" class="button">{t('common.save')}</button>
          </div>
        </form>
        <Notice kind={notice?.kind ?? 'info'}>{notice?.text ?? ''}</Notice>
      </Section>
    </>
  );
}
