import { MediaSizes, type PrintTicket } from './print-ticket.js';
import type { PrinterCapabilities } from './printer-capabilities.js';
import type { DocumentMapping, PrintingConfig } from './printing-config.js';

/**
 * The document-type mapping against what each printer reports (pure): a tray, duplex mode, colour
 * mode or copy count the printer does not offer is a warning shown in status and printers.list
 * — the job would be refused (ipp-attribute-fidelity) rather than printed on the wrong paper.
 */

export interface MappingWarning {
  docType: string;
  printerId: string;
  message: string;
}

/** The print ticket a mapping asks for; `copies` from the command wins over the mapping's. */
export function ticketFor(mapping: DocumentMapping, copies?: number): PrintTicket {
  return {
    ...(mapping.tray !== '' ? { tray: mapping.tray } : {}),
    ...(mapping.mediaSize !== '' ? { mediaSize: MediaSizes[mapping.mediaSize] } : {}),
    ...(mapping.sides !== '' ? { sides: mapping.sides } : {}),
    ...(mapping.color !== '' ? { colorMode: mapping.color } : {}),
    copies: copies ?? mapping.copies,
  };
}

const offers = (values: readonly string[]): string => (values.length > 0 ? values.join(', ') : 'none');

export function checkMapping(docType: string, mapping: DocumentMapping, caps: PrinterCapabilities): MappingWarning[] {
  const out: string[] = [];
  if (!caps.acceptsPdf) out.push(`printer does not accept PDF (offers: ${offers(caps.documentFormats)})`);
  if (mapping.tray !== '' && caps.trays.length > 0 && !caps.trays.includes(mapping.tray)) out.push(`tray ${mapping.tray} is unknown to the printer (offers: ${offers(caps.trays)})`);
  if (mapping.tray !== '' && caps.trays.length === 0) out.push(`tray ${mapping.tray} set, but the printer lists no trays (media-source-supported)`);
  if (mapping.sides !== '') {
    const supported = caps.sides.supported;
    const ok = supported.length > 0 ? supported.includes(mapping.sides) : mapping.sides === 'one-sided';
    if (!ok) out.push(`sides ${mapping.sides} is not offered (offers: ${offers(supported)})`);
  }
  if (mapping.color !== '') {
    const modes = caps.color.modes;
    if (modes.length > 0 ? !modes.includes(mapping.color) : mapping.color === 'color' && !caps.color.supported) {
      out.push(`colour mode ${mapping.color} is not offered (offers: ${offers(modes)})`);
    }
  }
  if (mapping.copies > caps.copies.max) out.push(`copies ${mapping.copies} exceed the printer's maximum of ${caps.copies.max}`);
  return out.map((message) => ({ docType, printerId: mapping.printer, message }));
}

/** Every mapping that names `printerId`, checked against its capabilities. */
export function checkPrinterMappings(config: PrintingConfig, printerId: string, caps: PrinterCapabilities): MappingWarning[] {
  return Object.entries(config.documentTypes)
    .filter(([, m]) => m.printer === printerId)
    .flatMap(([docType, m]) => checkMapping(docType, m, caps));
}
