import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useI18n } from '../i18n/index.js';
import { Notice, Section, Select, TableWrap, errorText } from '../ui.js';

interface LogLine {
  level?: number;
  time?: number | string;
  msg?: string;
  module?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];
const LEVEL_OF: Record<number, Level> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const KEEP = 200;

/**
 * The live log (already redacted by the box): the newest lines from `logs.tail`, then new ones as
 * Server-Sent Events (`/api/logs/stream`); where the stream is not served or drops for good, polling.
 */
export function LogTail(): JSX.Element {
  const { t, reason, lang } = useI18n();
  const [level, setLevel] = useState<Level>('info');
  const [paused, setPaused] = useState(false);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    if (paused) return;
    let alive = true;
    let stream: EventSource | undefined;
    let timer: number | undefined;
    const poll = async (): Promise<void> => {
      try {
        const r = await api.command<{ lines: LogLine[] }>('logs.tail', { lines: 60, level });
        if (alive) {
          setLines(r.lines.slice(-KEEP));
          setError(undefined);
        }
      } catch (err) {
        if (alive) setError(err);
      }
    };
    const fallBack = (): void => {
      if (alive && timer === undefined) timer = window.setInterval(() => void poll(), 3000);
    };
    void poll().then(() => {
      if (!alive) return;
      if (typeof EventSource === 'undefined') return fallBack();
      stream = new EventSource(`/api/logs/stream?level=${level}`);
      stream.onmessage = (ev: MessageEvent<string>) => {
        try {
          const line = JSON.parse(ev.data) as LogLine;
          setLines((prev) => [...prev, line].slice(-KEEP));
        } catch {
          // not a log line
        }
      };
      // EventSource retries by itself; CLOSED means the server refused it (not served, too many, logged out).
      stream.onerror = () => {
        if (stream?.readyState === EventSource.CLOSED) {
          stream = undefined;
          fallBack();
        }
      };
    });
    return () => {
      alive = false;
      stream?.close();
      if (timer !== undefined) window.clearInterval(timer);
    };
  }, [level, paused]);
  const shown = [...lines].reverse();
  return (
    <Section
      title={t('overview.logs')}
      actions={
        <>
          <Select compact name="logLevel" label={t('overview.logLevel')} value={level} onChange={(v) => setLevel(v as Level)} options={LEVELS.slice(1).map((l) => ({ value: l, label: `${t('overview.logLevel')}: ${t(`level.${l}`)}` }))} />
          <button type="button" class="button secondary small" aria-pressed={paused} onClick={() => setPaused(!paused)}>{paused ? t('overview.resume') : t('overview.pause')}</button>
        </>
      }
    >
      {error ? <Notice kind="error">{errorText(error, t, reason)}</Notice> : null}
      <TableWrap log label={t('overview.logs')}>
        <table class="log" data-testid="log-table">
          <thead>
            <tr>
              <th scope="col">{t('overview.logTime')}</th>
              <th scope="col">{t('overview.logLevelCol')}</th>
              <th scope="col">{t('overview.logMessage')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 ? (
              <tr><td colSpan={3} class="muted">{t('overview.logEmpty')}</td></tr>
            ) : (
              shown.map((l, i) => {
                const lv = LEVEL_OF[l.level ?? 30] ?? 'info';
                return (
                  <tr key={`${String(l.time)}-${shown.length - i}`} class={`lv-${lv}`}>
                    <td class="mono nowrap">{l.time !== undefined ? new Date(l.time).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB') : ''}</td>
                    <td><span class={`tag tag-${lv}`}>{t(`level.${lv}`)}</span></td>
                    <td>{l.module ? <span class="muted">{l.module}: </span> : null}{l.msg ?? ''}</td>
                  </tr>
                );
              })
            )}
          </tbody>
        </table>
      </TableWrap>
    </Section>
  );
}
