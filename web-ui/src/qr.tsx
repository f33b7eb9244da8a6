import type { JSX } from 'preact';
import { encode } from 'uqr';

/** A QR code drawn as one SVG path, generated here in the browser (no external service). */
export function QrCode(p: { text: string; label: string }): JSX.Element {
  const qr = encode(p.text, { ecc: 'M', border: 2 });
  let d = '';
  qr.data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    });
  });
  return (
    <svg class="qr" role="img" aria-label={p.label} viewBox={`0 0 ${qr.size} ${qr.size}`} shape-rendering="crispEdges" data-testid="pair-qr">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
