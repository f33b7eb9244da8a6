import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { useI18n } from './i18n/index.js';
import { errorText, fieldErrors, type FieldErrors, type NoticeKind } from './ui.js';

export interface SectionEditor<T> {
  value: T | undefined;
  set: (next: T) => void;
  /** Saves through `config.set`: the box validates the whole configuration with its schema. */
  save: (next?: T) => Promise<boolean>;
  saving: boolean;
  errors: FieldErrors;
  notice: { kind: NoticeKind; text: string } | undefined;
  dirty: boolean;
  reload: () => Promise<void>;
}

export function useConfigSection<T>(section: string): SectionEditor<T> {
  const { t, reason } = useI18n();
  const [value, setValue] = useState<T | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<SectionEditor<T>['notice']>(undefined);
  const [dirty, setDirty] = useState(false);
  const reload = async (): Promise<void> => {
    try {
      setValue(await api.command<T>('config.get', { path: section }));
      setDirty(false);
    } catch (err) {
      setNotice({ kind: 'error', text: errorText(err, t, reason) });
    }
  };
  useEffect(() => {
    void reload();
  }, [section]);
  const save = async (next?: T): Promise<boolean> => {
    const doc = next ?? value;
    if (doc === undefined) return false;
    setSaving(true);
    setNotice(undefined);
    try {
      await api.command('config.set', { path: section, value: doc });
      setErrors({});
      setValue(doc);
      setDirty(false);
      setNotice({ kind: 'success', text: t('common.saved') });
      return true;
    } catch (err) {
      const found = fieldErrors(err, `/${section.replace(/\./g, '/')}`, reason);
      setErrors(found);
      setNotice({ kind: 'error', text: Object.keys(found).length > 0 ? t('common.fixErrors') : errorText(err, t, reason) });
      return false;
    } finally {
      setSaving(false);
    }
  };
  return {
    value,
    set: (next: T) => {
      setValue(next);
      setDirty(true);
    },
    save,
    saving,
    errors,
    notice,
    dirty,
    reload,
  };
}
