import type { ApduMode } from './card-channel.js';
import type { DetectedCardType, TerminalRef } from './card-events.js';
import type { CardsConfig, TerminalConfig } from './cards-config.js';
import type { CardSource } from './insured-person.js';
import { generatedTerminalId, readerMatches, stableReaderKey } from './reader-name.js';

/** Who a reader is, according to the configuration (or a generated identity for an unknown one). */
export interface TerminalIdentity {
  id: string;
  name: string;
  location: string;
  workstationIds: string[];
  source: CardSource;
  configured: boolean;
  apduMode: ApduMode;
  /** Whether cards in it are read (unassigned readers only when `readUnassigned`). */
  read: boolean;
}

const idOf = (t: TerminalConfig): string => (t.id !== '' ? t.id : generatedTerminalId(t.readerName));

export function identifyReader(readerName: string, config: CardsConfig): TerminalIdentity {
  const t = config.terminals.find((c) => c.source === 'pcsc' && readerMatches(c.readerName, readerName));
  if (t) {
    return {
      id: idOf(t),
      name: t.name || stableReaderKey(readerName),
      location: t.location,
      workstationIds: [...t.workstationIds],
      source: 'pcsc',
      configured: true,
      apduMode: t.apduMode,
      read: true,
    };
  }
  return {
    id: generatedTerminalId(readerName),
    name: stableReaderKey(readerName),
    location: '',
    workstationIds: [],
    source: 'pcsc',
    configured: false,
    apduMode: 'short',
    read: config.readUnassigned,
  };
}

export const refOf = (t: TerminalIdentity): TerminalRef => ({ source: t.source, terminalId: t.id, workstationIds: [...t.workstationIds] });

/** What the module knows about a connected reader right now (no card data). */
export interface ReaderSnapshot {
  readerName: string;
  cardPresent: boolean;
  card?: { insertionId: string; cardType: DetectedCardType; state: 'reading' | 'read' | 'error'; code?: string; insertedAt: string };
}

export interface TerminalView {
  id: string;
  name: string;
  location: string;
  workstationIds: string[];
  source: CardSource;
  configured: boolean;
  connected: boolean;
  /** The reader it was matched to (configured name when not connected). */
  readerName: string;
  /** For unknown readers: the name to put into the configuration (stable across re-plug). */
  suggestedReaderName?: string;
  cardPresent: boolean;
  card?: ReaderSnapshot['card'];
}

/**
 * The list `terminals.list` returns: every configured terminal (connected or not), then every
 * connected reader nobody configured, so the user can name and assign it.
 */
export function terminalViews(config: CardsConfig, readers: readonly ReaderSnapshot[]): TerminalView[] {
  const views: TerminalView[] = [];
  const claimed = new Set<string>();
  for (const t of config.terminals) {
    if (t.source !== 'pcsc') {
      views.push({ id: idOf(t), name: t.name, location: t.location, workstationIds: [...t.workstationIds], source: t.source, configured: true, connected: false, readerName: t.readerName, cardPresent: false });
      continue;
    }
    const r = readers.find((x) => !claimed.has(x.readerName) && readerMatches(t.readerName, x.readerName));
    if (r) claimed.add(r.readerName);
    const view: TerminalView = {
      id: idOf(t),
      name: t.name,
      location: t.location,
      workstationIds: [...t.workstationIds],
      source: 'pcsc',
      configured: true,
      connected: r !== undefined,
      readerName: r?.readerName ?? t.readerName,
      cardPresent: r?.cardPresent ?? false,
    };
    if (r?.card) view.card = r.card;
    views.push(view);
  }
  for (const r of readers) {
    if (claimed.has(r.readerName)) continue;
    const id = identifyReader(r.readerName, config);
    const view: TerminalView = {
      id: id.id,
      name: '',
      location: '',
      workstationIds: [],
      source: 'pcsc',
      configured: false,
      connected: true,
      readerName: r.readerName,
      suggestedReaderName: stableReaderKey(r.readerName),
      cardPresent: r.cardPresent,
    };
    if (r.card) view.card = r.card;
    views.push(view);
  }
  return views;
}
