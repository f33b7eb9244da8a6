import type { PatientData } from '../core/patient-data.js';
import type { CardErrorCode } from './card-errors.js';
import type { CardFacts, CardSource, CardType, CardWarning, Coverage, InsuredPerson, ReadStatus } from './insured-person.js';

/**
 * The events every card source emits — PC/SC now, the Konnektor and mobile terminals later — so that
 * consumers (outbox → cloud calendar, web UI) never care where a card was read. Order per terminal:
 * `card.inserted`, then exactly one of `card.read` / `card.error`, then `card.removed`.
 * Personal data travels only inside `PatientData`.
 */
export interface TerminalRef {
  source: CardSource;
  terminalId: string;
  /** Workstations the terminal serves (empty for a terminal nobody assigned yet). */
  workstationIds: string[];
}

export type DetectedCardType = CardType | 'unknown';

export interface CardEventMap {
  'terminal.attached': TerminalRef & { readerName: string; name: string; location: string; configured: boolean };
  'terminal.detached': TerminalRef & { readerName: string };
  'card.inserted': TerminalRef & { insertionId: string; cardType: DetectedCardType };
  'card.read': TerminalRef & {
    insertionId: string;
    cardType: CardType;
    card: CardFacts;
    person: PatientData<InsuredPerson>;
    coverage: PatientData<Coverage>;
    status: ReadStatus;
    warnings: CardWarning[];
    /** From the insertion notice (or the re-read command) to the decoded record. */
    readMs: number;
  };
  'card.removed': TerminalRef & { insertionId: string };
  'card.error': TerminalRef & { insertionId: string; cardType: DetectedCardType; code: CardErrorCode; message: string };
}

export type CardEventType = keyof CardEventMap;

/** The bus a host may pass in for live consumers (web UI); structurally any EventBus over these events. */
export interface CardEventBus {
  emit<K extends CardEventType>(event: K, payload: CardEventMap[K]): void;
}
