import type { AgentStatus } from '../core/system-module.js';

const HEALTH_WORD = { ok: 'OK (green)', degraded: 'DEGRADED (yellow)', fault: 'FAULT (red)' } as const;

/** The human form of `praxisbox status`: one line per module with its state and reason. */
export function formatStatus(s: AgentStatus): string {
  const lines: string[] = [];
  lines.push(`Praxisbox ${s.boxId ?? '(no identity)'}  version ${s.version}  up ${formatDuration(s.uptimeSeconds)}`);
  lines.push(`Health: ${HEALTH_WORD[s.health]}${s.needsSetup ? '  — needs setup' : ''}`);
  lines.push(`Memory: ${Math.round(s.memory.rssBytes / 1024 / 1024)} MB RSS`);
  lines.push('Modules:');
  const width = Math.max(...s.modules.map((m) => m.name.length), 6);
  for (const m of s.modules) {
    const facts = summarize(m.name, m.details);
    const reason = m.health.reason ?? m.reason;
    lines.push(
      `  ${m.name.padEnd(width)}  ${m.state.padEnd(11)}  ${m.health.level.padEnd(8)}${reason ? `  ${reason}` : ''}${facts ? `  [${facts}]` : ''}`,
    );
  }
  const web = s.modules.find((m) => m.name === 'web')?.details;
  if (typeof web?.['url'] === 'string') {
    lines.push(`Web UI: ${web['url']}${typeof web['redirectUrl'] === 'string' ? `  (plain HTTP ${web['redirectUrl']} redirects)` : ''}${web['setupDone'] === false ? '  — first run: enter the setup code (praxisbox setup-code)' : ''}`);
    if (typeof web['fingerprint'] === 'string') lines.push(`Web certificate SHA-256: ${web['fingerprint']}`);
  }
  return `${lines.join('\n')}\n`;
}

function summarize(name: string, d: Record<string, unknown>): string {
  if (name === 'outbox' && typeof d['depth'] === 'number') {
    const age = typeof d['oldestAgeSeconds'] === 'number' ? `, oldest ${formatDuration(d['oldestAgeSeconds'])}` : '';
    return `depth ${d['depth']}, ${d['bytes']} bytes${age}`;
  }
  return '';
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
