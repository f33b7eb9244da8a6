import path from 'node:path';
import type { GdtConfig, GdtDeviceConfig } from './gdt-config.js';

/**
 * Where a device's files live, resolved from its configuration (pure: no file system access).
 * `archive/` and `quarantine/` are subfolders of the result folder so that moving a file there is a
 * rename within one file system — atomic also on a network share.
 */
export interface DeviceLayout {
  id: string;
  orderDir: string;
  resultDir: string;
  archiveDir: string;
  quarantineDir: string;
  /** Order files are `<base>.GDT` or `<base>.001…`. */
  orderFileBase: string;
  /** Mapping targets, resolved; attachments are read only from here, the result and the order folder. */
  mappings: Array<{ devicePrefix: string; localDir: string }>;
  /** A folder inside the GDT root belongs to the box and is created when missing; anything else (a mounted share) must exist. */
  orderDirManaged: boolean;
  resultDirManaged: boolean;
}

export const ARCHIVE_DIR = 'archive';
export const QUARANTINE_DIR = 'quarantine';

export function deviceLayout(device: GdtDeviceConfig, gdtRoot: string): DeviceLayout {
  const root = path.resolve(gdtRoot);
  const resolve = (p: string): string => path.resolve(root, p === '' ? device.id : p);
  const orderDir = resolve(device.orderDir);
  const resultDir = resolve(device.resultDir);
  return {
    id: device.id,
    orderDir,
    resultDir,
    archiveDir: path.join(resultDir, ARCHIVE_DIR),
    quarantineDir: path.join(resultDir, QUARANTINE_DIR),
    orderFileBase: device.orderFileBase !== '' ? device.orderFileBase : shortId(device.deviceGdtId) + shortId(device.ownGdtId),
    mappings: device.pathMappings.map((m) => ({ devicePrefix: m.devicePrefix, localDir: path.resolve(root, m.localDir) })),
    orderDirManaged: isInside(root, orderDir),
    resultDirManaged: isInside(root, resultDir),
  };
}

/** The GDT file-name convention's short id: the first four letters or digits of a GDT id, upper case. */
export function shortId(gdtId: string): string {
  const letters = gdtId.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return (letters === '' ? 'GDT' : letters).slice(0, 4);
}

/** `child` is `parent` or below it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

const RESULT_NAME = /\.(gdt|\d{3})$/i;

/** A name the box writes orders under (`<base>.GDT`, `<base>.NNN`), case-insensitive as on a Windows share. */
export function isOrderFileName(name: string, base: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return false;
  return name.slice(0, dot).toUpperCase() === base.toUpperCase() && RESULT_NAME.test(name);
}

/**
 * Which entries of a result folder are GDT files to import: `*.GDT` and counter extensions
 * (`*.001`), not hidden (temp files of devices and of the box start with a dot), and not the
 * box's own order files (order and result folder are often one folder).
 */
export function isResultCandidate(name: string, layout: Pick<DeviceLayout, 'orderDir' | 'resultDir' | 'orderFileBase'>): boolean {
  if (name.startsWith('.') || !RESULT_NAME.test(name)) return false;
  if (layout.orderDir === layout.resultDir && isOrderFileName(name, layout.orderFileBase)) return false;
  return true;
}

/**
 * Cross-field checks the schema cannot express, each naming the entry (never file contents).
 * Folder existence and rights are checked by the device at start (they change at run time).
 */
export function gdtConfigProblems(config: GdtConfig, gdtRoot: string): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  const resultDirs = new Map<string, number>();
  const orderFiles = new Map<string, number>();
  config.devices.forEach((device, i) => {
    const seen = ids.get(device.id);
    if (seen !== undefined) problems.push(`/devices/${i}/id: same id as /devices/${seen}`);
    else ids.set(device.id, i);
    const layout = deviceLayout(device, gdtRoot);
    const dir = resultDirs.get(layout.resultDir);
    if (dir !== undefined) problems.push(`/devices/${i}/resultDir: same result folder as /devices/${dir} (each file would be imported twice)`);
    else resultDirs.set(layout.resultDir, i);
    const orderKey = `${layout.orderDir}\0${layout.orderFileBase.toUpperCase()}`;
    const other = orderFiles.get(orderKey);
    if (other !== undefined) problems.push(`/devices/${i}/orderFileBase: same order folder and file name as /devices/${other}`);
    else orderFiles.set(orderKey, i);
    if (isInside(layout.resultDir, layout.orderDir) && layout.orderDir !== layout.resultDir) {
      problems.push(`/devices/${i}/orderDir: inside the result folder (use the same folder or a separate one)`);
    }
    device.pathMappings.forEach((m, j) => {
      if (/(^|[\\/])\.\.([\\/]|$)/.test(m.devicePrefix)) problems.push(`/devices/${i}/pathMappings/${j}/devicePrefix: must not contain ".."`);
    });
  });
  return problems;
}
