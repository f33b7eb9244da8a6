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
}
