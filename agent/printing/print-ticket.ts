import { attribute, collection, integer, keyword } from './ipp/ipp-value.js';
import type { IppAttribute, IppValue } from './ipp/ipp-value.js';
import { PrintError } from './print-error.js';
import type { MediaSize, PrinterCapabilities, Sides } from './printer-capabilities.js';

/**
 * How a document is to be printed, in the practice's terms (which tray, which paper, duplex,
 * colour, copies) and its translation into IPP Job Template attributes, checked against what the
 * printer says it supports. Pure.
 *
 * Trays go out as `media-col` { media-size { x-dimension, y-dimension }, media-source } (PWG
 * 5100.7), not as `media` / `media-size-name` keywords: printers match a size keyword against
 * their own naming and silently fall back to the default tray when it differs, while media-source
 * names the tray itself.
 */
export interface PrintTicket {
  /** A media-source keyword the printer lists in media-source-supported (e.g. `tray-2`, `manual`). */
  tray?: string;
  /** Hundredths of a millimetre; when absent, the size loaded in `tray` (media-col-ready) is used. */
  mediaSize?: MediaSize;
  /** media-type keyword (e.g. `labels`, `stationery`), only when the printer supports the member. */
  mediaType?: string;
  sides?: Sides;
  colorMode?: 'monochrome' | 'color' | 'auto';
  copies?: number;
}

/** Common sizes in hundredths of a millimetre (PWG 5101.1 dimensions). */
export const MediaSizes = {
  A4: { x: 21000, y: 29700 },
  A5: { x: 14800, y: 21000 },
  A6: { x: 10500, y: 14800 },
  Letter: { x: 21590, y: 27940 },
} as const satisfies Record<string, MediaSize>;

function unsupported(what: string, offered: readonly string[]): PrintError {
  return new PrintError('option-not-supported', `printer does not support ${what} (offers: ${offered.join(', ') || 'none'})`);
}

/** The size to send for a tray: explicit, else what the printer reports as loaded there. */
export function mediaSizeFor(ticket: PrintTicket, capabilities: PrinterCapabilities): MediaSize | undefined {
  if (ticket.mediaSize) return ticket.mediaSize;
  if (ticket.tray === undefined) return undefined;
  return capabilities.mediaReady.find((m) => m.source === ticket.tray)?.size;
}

export function jobTemplateAttributes(ticket: PrintTicket, capabilities: PrinterCapabilities): IppAttribute[] {
  const out: IppAttribute[] = [];
  if (ticket.copies !== undefined) {
    if (!Number.isInteger(ticket.copies) || ticket.copies < 1) throw new PrintError('option-not-supported', 'copies must be a whole number of at least 1');
    if (ticket.copies > capabilities.copies.max) throw new PrintError('option-not-supported', `printer prints at most ${capabilities.copies.max} copies`);
    out.push(attribute('copies', integer(ticket.copies)));
  }
  if (ticket.sides !== undefined) {
    const supported = capabilities.sides.supported;
    if (supported.length > 0 ? !supported.includes(ticket.sides) : ticket.sides !== 'one-sided') throw unsupported(`sides ${ticket.sides}`, supported);
    out.push(attribute('sides', keyword(ticket.sides)));
  }
  if (ticket.colorMode !== undefined) {
    const modes = capabilities.color.modes;
    if (modes.length > 0) {
      if (!modes.includes(ticket.colorMode)) throw unsupported(`print-color-mode ${ticket.colorMode}`, modes);
      out.push(attribute('print-color-mode', keyword(ticket.colorMode)));
    } else if (ticket.colorMode === 'color' && !capabilities.color.supported) {
      throw unsupported('colour printing', []);
    }
    // Without print-color-mode-supported the printer predates PWG 5100.13: it prints as it can.
  }
  const mediaCol = mediaColFor(ticket, capabilities);
  if (mediaCol) out.push(attribute('media-col', mediaCol));
  return out;
}

function mediaColFor(ticket: PrintTicket, capabilities: PrinterCapabilities): IppValue | undefined {
  if (ticket.tray !== undefined && capabilities.trays.length > 0 && !capabilities.trays.includes(ticket.tray)) {
    throw unsupported(`tray ${ticket.tray}`, capabilities.trays);
  }
  const members: Record<string, IppValue> = {};
  const size = mediaSizeFor(ticket, capabilities);
  if (size) {
    if (!Number.isInteger(size.x) || !Number.isInteger(size.y) || size.x <= 0 || size.y <= 0) {
      throw new PrintError('option-not-supported', 'media size must be positive whole hundredths of a millimetre');
    }
    members['media-size'] = collection({ 'x-dimension': integer(size.x), 'y-dimension': integer(size.y) });
  }
  if (ticket.tray !== undefined) members['media-source'] = keyword(ticket.tray);
  if (ticket.mediaType !== undefined) {
    const cols = capabilities.mediaColMembers;
    if (cols.length > 0 && !cols.includes('media-type')) throw unsupported('media-type in media-col', cols);
    members['media-type'] = keyword(ticket.mediaType);
  }
  return Object.keys(members).length > 0 ? collection(members) : undefined;
}
