import { buildPdf } from './pdf-document.js';

/**
 * The page the IT provider prints from the setup page to check that a document type lands on the
 * right printer and tray. It names only box, printer and tray — no patient data.
 */
export interface TestPageInput {
  boxId: string;
  printerName: string;
  tray: string | undefined;
  /** What this printer/tray is configured for, e.g. "Arbeitsunfähigkeitsbescheinigung". */
  documentType?: string;
  printedAt: Date;
}

export function testPagePdf(input: TestPageInput): Buffer {
  const lines = [
    'Praxisbox – Testseite',
    '',
    `Box: ${input.boxId}`,
    `Drucker: ${input.printerName}`,
    `Fach: ${input.tray ?? 'automatisch'}`,
    ...(input.documentType ? [`Dokumenttyp: ${input.documentType}`] : []),
    `Gedruckt: ${input.printedAt.toISOString()}`,
    '',
    'Wenn diese Seite aus dem richtigen Fach kommt, ist die Zuordnung korrekt.',
  ];
  return buildPdf([{ lines }]);
}
