import path from 'node:path';
import { isInside, type DeviceLayout } from './device-layout.js';

/**
 * Where a 6305 attachment path points on the box (pure). 6305 holds a path *as the device PC sees
 * it* (`C:\GDT\EKG\123.pdf`, `\\praxis-srv\gdt\123.pdf`), so a configured prefix is swapped for a
 * local folder. Everything is refused that could leave the configured folders by name: `..`
 * segments, drive letters or stream names (`:`) past the prefix, NUL, absolute paths that match no
 * mapping. Symlinks are the I/O side's job (realpath of the opened file).
 */
export type MappedPath = { ok: true; localPath: string } | { ok: false; reason: MappingRefusal };

export type MappingRefusal = 'empty' | 'traversal' | 'invalid-name' | 'unmapped' | 'outside';

export const REFUSAL_TEXT: Readonly<Record<MappingRefusal, string>> = {
  empty: 'the attachment path is empty',
  traversal: 'the attachment path climbs out of its folder (..)',
  'invalid-name': 'the attachment path holds a drive, stream name or control character past the mapped prefix',
  unmapped: 'the attachment path matches no configured path mapping',
  outside: 'the attachment path is outside the device folders',
};

/** Folders attachments may be read from: the result and order folder and every mapping target. */
export function attachmentRoots(layout: Pick<DeviceLayout, 'resultDir' | 'orderDir' | 'mappings'>): string[] {
  return [...new Set([layout.resultDir, layout.orderDir, ...layout.mappings.map((m) => m.localDir)])];
}

const WINDOWS_ABSOLUTE = /^([A-Za-z]:|[\\/]{2})/;

export function mapAttachmentPath(raw: string, layout: Pick<DeviceLayout, 'resultDir' | 'orderDir' | 'mappings'>): MappedPath {
  const value = raw.trim();
  if (value === '') return { ok: false, reason: 'empty' };
  if (value.includes('\0')) return { ok: false, reason: 'invalid-name' };
  const normalized = toBackslashes(value);
  // Longest prefix first, so `C:\GDT\EKG\` wins over `C:\GDT\`.
  const mappings = [...layout.mappings].sort((a, b) => toBackslashes(b.devicePrefix).length - toBackslashes(a.devicePrefix).length);
  for (const m of mappings) {
    const prefix = toBackslashes(m.devicePrefix).replace(/\\+$/, '');
    if (!startsWithSegment(normalized, prefix)) continue;
    return joinInside(m.localDir, normalized.slice(prefix.length), layout);
  }
  if (WINDOWS_ABSOLUTE.test(value)) return { ok: false, reason: 'unmapped' };
  if (value.startsWith('/')) {
    const local = path.resolve(value);
    if (value.split('/').includes('..')) return { ok: false, reason: 'traversal' };
    return attachmentRoots(layout).some((root) => isInside(root, local)) ? { ok: true, localPath: local } : { ok: false, reason: 'outside' };
  }
  // A bare or relative name: devices that write the PDF beside the result file often give no folder.
  return joinInside(layout.resultDir, normalized, layout);
}

function joinInside(base: string, rest: string, layout: Pick<DeviceLayout, 'resultDir' | 'orderDir' | 'mappings'>): MappedPath {
  const segments = rest.split('\\').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) return { ok: false, reason: 'empty' };
  for (const s of segments) {
    if (s === '..' || /^\.\.[. ]*$/.test(s)) return { ok: false, reason: 'traversal' };
    // `:` is a drive or an NTFS stream name; control characters have no place in a file name.
    // eslint-disable-next-line no-control-regex
    if (/[:\x00-\x1f]/.test(s)) return { ok: false, reason: 'invalid-name' };
  }
  const local = path.join(base, ...segments);
  if (!isInside(base, local)) return { ok: false, reason: 'traversal' };
  return attachmentRoots(layout).some((root) => isInside(root, local)) ? { ok: true, localPath: local } : { ok: false, reason: 'outside' };
}

function toBackslashes(p: string): string {
  return p.replace(/\//g, '\\');
}

/** Case-insensitive prefix match that ends at a separator (`C:\GDT` matches `C:\GDT\x`, not `C:\GDTX`). */
function startsWithSegment(value: string, prefix: string): boolean {
  if (prefix === '') return false;
  if (value.length <= prefix.length) return false;
  return value.slice(0, prefix.length).toUpperCase() === prefix.toUpperCase() && value[prefix.length] === '\\';
}
