import type { HealthReport, ModuleState } from './module.js';

/**
 * The agent's internal events. Payloads that carry personal data must wrap it in `PatientData`
 * (see patient-data.ts); everything else here is safe to log.
 */
export interface AgentEvents {
  'module.state': { module: string; state: ModuleState; reason?: string };
  'module.health': { module: string; health: HealthReport };
  /** The configuration changed; `sections` are the top-level keys whose value differs. */
  'config.changed': { sections: string[]; version: number };
  /** An event is durable in the outbox and may be drained. */
  'outbox.appended': { seq: number; type: string };
  /** Unacknowledged events were removed after delivery. */
  'outbox.acked': { seq: number };
  /** The outbox refuses or delays producers (full), or accepts again. */
  'outbox.pressure': { full: boolean; reason?: string };
  /** Pairing with the practice's cloud account changed state (web UI, LED). */
  'cloud.pairing': { state: PairingState; expiresAt?: string };
  /** An application update moved to another stage (LED "updating", cloud progress events). */
  'update.progress': { stage: UpdateStage; version: string; percent?: number; reason?: string };
  /** Someone asked the box to show itself (button short press, web UI "Box identifizieren"). */
  'board.identify': { seconds: number; source: 'button' | 'web' | 'cloud' };
}

export type PairingState = 'unpaired' | 'pending' | 'paired' | 'expired' | 'denied' | 'failed';
export type UpdateStage = 'downloading' | 'verifying' | 'unpacking' | 'switching' | 'restarting' | 'committed' | 'rolled-back' | 'failed';
