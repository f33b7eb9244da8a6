import { createContext, type JSX } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, setSession, whenUnauthorized, type Session } from './api.js';
import { I18nContext, initialLang, makeI18n, saveLang, useI18n, type Lang } from './i18n/index.js';
import type { MessageKey } from './i18n/de.js';
import { HealthDot, Notice, usePoll, type HealthLevel } from './ui.js';
import { SetupPage } from './pages/setup.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { CloudPage } from './pages/cloud.js';
import { TerminalsPage } from './pages/terminals.js';
import { PrintersPage } from './pages/printers.js';
import { GdtPage } from './pages/gdt.js';
import { BrokerPage } from './pages/broker.js';
import { AccountPage } from './pages/account.js';
import { AuditPage } from './pages/audit.js';

interface Route {
  path: string;
  label: MessageKey;
  /** The page appears only when the box serves this command (capabilities not built: no page). */
  needs?: string;
  page: () => JSX.Element;
}

const ROUTES: Route[] = [
  { path: 'overview', label: 'nav.overview', page: () => <OverviewPage /> },
  { path: 'cloud', label: 'nav.cloud', needs: 'cloud.status', page: () => <CloudPage /> },
  { path: 'terminals', label: 'nav.terminals', needs: 'terminals.list', page: () => <TerminalsPage /> },
  { path: 'printers', label: 'nav.printers', needs: 'printers.list', page: () => <PrintersPage /> },
  { path: 'gdt', label: 'nav.gdt', needs: 'gdt.devices.list', page: () => <GdtPage /> },
  { path: 'broker', label: 'nav.broker', needs: 'broker.users.list', page: () => <BrokerPage /> },
  { path: 'audit', label: 'nav.audit', page: () => <AuditPage /> },
  { path: 'account', label: 'nav.account', page: () => <AccountPage /> },
];

const EMPTY = new Set<string>();
/** The commands this box serves right now: pages show only what exists (no dead buttons). */
export const CapabilityContext = createContext<Set<string>>(EMPTY);
export const useCapabilities = (): Set<string> => useContext(CapabilityContext);

const currentPath = (): string => window.location.hash.replace(/^#\/?/, '') || 'overview';

export function App(): JSX.Element {
  const [lang, setLangState] = useState<Lang>(initialLang());
  const i18n = useMemo(() => makeI18n(lang, (l) => {
    saveLang(l);
    setLangState(l);
  }), [lang]);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return (
    <I18nContext.Provider value={i18n}>
      <Root />
    </I18nContext.Provider>
  );
}

function Root(): JSX.Element {
  const { t } = useI18n();
  const [session, setSessionState] = useState<Session | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  const [notice, setNotice] = useState<MessageKey | undefined>(undefined);
  const load = async (): Promise<void> => {
    try {
      const s = await api.session();
      setSession(s);
      setSessionState(s);
      setFailed(false);
    } catch {
      setFailed(true);
    }
  };
  useEffect(() => {
    whenUnauthorized(() => {
      setNotice('login.expired');
      void load();
    });
    void load();
  }, []);
  if (failed && !session) return <Centered><Notice kind="error">{t('app.offline')}</Notice></Centered>;
  if (!session) return <Centered><p aria-live="polite">{t('app.loading')}</p></Centered>;
  if (!session.setupDone) return <SetupPage session={session} onDone={(loggedIn) => { if (!loggedIn) setNotice('setup.done'); void load(); }} />;
  if (!session.loggedIn) return <LoginPage session={session} notice={notice} onDone={() => { setNotice(undefined); void load(); }} />;
  return <Shell session={session} onLoggedOut={() => void load()} />;
}

function Centered(p: { children: JSX.Element }): JSX.Element {
  return <main class="centered">{p.children}</main>;
}

export function LangSwitch(): JSX.Element {
  const { t, lang, setLang } = useI18n();
  return (
    <button type="button" class="link-button lang" lang={lang === 'de' ? 'en' : 'de'} aria-label={`${t('lang.label')}: ${t('lang.switch')}`} onClick={() => setLang(lang === 'de' ? 'en' : 'de')}>
      {t('lang.switch')}
    </button>
  );
}

interface Header {
  boxName: string;
  health: HealthLevel;
  commands: Set<string>;
}

function Shell(p: { session: Session; onLoggedOut: () => void }): JSX.Element {
  const { t } = useI18n();
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onHash = (): void => setPath(currentPath());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const header = usePoll<Header>(async () => {
    const [health, name, list] = await Promise.all([
      api.command<{ health: HealthLevel; modules: Array<{ name: string; state: string }> }>('health.get'),
      api.command<string>('config.get', { path: 'box.name' }).catch(() => 'Praxisbox'),
      api.command<{ commands: Array<{ name: string; owner: string }> }>('commands.list'),
    ]);
    // A command counts when its module is not switched off (a disabled module's page would only show errors).
    const off = new Set(health.modules.filter((m) => m.state === 'disabled').map((m) => m.name));
    return { boxName: name, health: health.health, commands: new Set(list.commands.filter((c) => !off.has(c.owner)).map((c) => c.name)) };
  }, 5_000);
  const routes = ROUTES.filter((r) => !r.needs || !header.data || header.data.commands.has(r.needs));
  const route = routes.find((r) => r.path === path) ?? routes[0]!;
  useEffect(() => {
    document.title = `${t(route.label)} · ${header.data?.boxName ?? 'Praxisbox'}`;
  }, [route.path, header.data?.boxName, t]);
  const logout = async (): Promise<void> => {
    try {
      await api.logout();
    } finally {
      p.onLoggedOut();
    }
  };
  return (
    <div class="shell">
      <a class="skip" href="#main">{t('app.skip')}</a>
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true">P</span>
          <span class="box-name" data-testid="box-name">{header.data?.boxName ?? 'Praxisbox'}</span>
          {header.data ? <span data-testid="header-health" aria-label={t('health.header', { level: t(`health.${header.data.health}`) })}><HealthDot level={header.data.health} /></span> : null}
        </div>
        <div class="top-actions">
          <LangSwitch />
          <button type="button" class="button secondary small" onClick={() => void logout()}>{t('nav.logout')}</button>
        </div>
      </header>
      <nav class="nav" aria-label={t('nav.label')}>
        <ul>
          {routes.map((r) => (
            <li key={r.path}>
              <a href={`#/${r.path}`} aria-current={r.path === route.path ? 'page' : undefined}>{t(r.label)}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        <CapabilityContext.Provider value={header.data?.commands ?? EMPTY}>{header.data ? route.page() : <p>{t('app.loading')}</p>}</CapabilityContext.Provider>
      </main>
      <footer class="footer">Praxisbox {p.session.version ?? ''} · {p.session.boxId ?? ''}</footer>
    </div>
  );
}
