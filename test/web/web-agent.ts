import path from 'node:path';
import { readDeviceSecret } from '../../agent/core/identity.js';
import { setupCode } from '../../agent/web/setup-code.js';
import type { TestAgent } from '../helpers/test-agent.js';

/** The web module's facts from the agent's status (url with the actual port, fingerprint, …). */
export async function webStatus(box: TestAgent): Promise<Record<string, unknown>> {
  const s = await box.agent.status();
  return s.modules.find((m) => m.name === 'web')?.details ?? {};
}

export async function webUrl(box: TestAgent): Promise<string> {
  const url = (await webStatus(box))['url'];
  if (typeof url !== 'string') throw new Error('web module is not listening');
  return url;
}

/** The box's setup code, read from its device secret as `praxisbox setup-code` does. */
export async function boxSetupCode(dir: string): Promise<string> {
  const secret = await readDeviceSecret(path.join(dir, 'device-secret'));
  if (!secret) throw new Error('no device secret');
  return setupCode(secret);
}

export const GOOD_PASSWORD = 'Kaffee-Tasse-Blau-42';
