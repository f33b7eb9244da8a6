import { Value } from '@sinclair/typebox/value';
import { deviceLayout, gdtConfigProblems } from './device-layout.js';
import { checkDeviceFolders } from './folder-check.js';
import { GdtSection, type GdtConfig } from './gdt-config.js';

/**
 * `gdt.config.check`: everything that would make a proposed `gdt` section fail, before it is saved
 * — the schema, the cross-field rules and each device's folders (exist, writable; folders inside the
 * GDT root are only reported as "will be created", nothing is created). The configuration store
 * validates the schema on save; folders can only be judged on the box, so the setup page asks here.
 */
export interface GdtConfigCheck {
  valid: boolean;
  problems: string[];
  devices: Array<{ id: string; problems: string[]; notes: string[] }>;
}

export async function checkGdtSection(doc: unknown, gdtRoot: string): Promise<GdtConfigCheck> {
  const filled: unknown = Value.Default(GdtSection, Value.Clone(doc ?? {}));
  const schemaProblems = [...Value.Errors(GdtSection, filled)].map((e) => `${e.path === '' ? '/' : e.path}: ${e.message}`);
  if (schemaProblems.length > 0) return { valid: false, problems: [...new Set(schemaProblems)], devices: [] };
  const config = filled as GdtConfig;
  const problems = gdtConfigProblems(config, gdtRoot);
  const devices: GdtConfigCheck['devices'] = [];
  for (const device of config.devices.filter((d) => d.enabled)) {
    const check = await checkDeviceFolders(deviceLayout(device, gdtRoot), { create: false });
    devices.push({ id: device.id, ...check });
  }
  return { valid: problems.length === 0 && devices.every((d) => d.problems.length === 0), problems, devices };
}
