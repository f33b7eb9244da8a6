/** Builds GDT bytes by hand for tests, so that broken files can be made on purpose. */
export type Line = string | [id: string, value: string] | [id: string, value: string, lll: string];

/**
 * Joins lines: a `[id, value]` pair gets its correct `LLL` (value bytes in Latin-1 + 9), a triple
 * gets the given `LLL`, a plain string is taken as is. The record-size line `8100` is computed
 * when given as `['8100', 'auto']` (sum of all lines + 14, as GDT defines it).
 */
export function gdtFile(lines: readonly Line[], eol = '\r\n', finalBreak = true): Buffer {
  const texts = lines.map((l) => (typeof l === 'string' ? l : l.length === 3 ? `${l[2]}${l[0]}${l[1]}` : `${pad3(Buffer.byteLength(l[1], 'latin1') + 9)}${l[0]}${l[1]}`));
  lines.forEach((l, auto) => {
    if (typeof l === 'string' || l[0] !== '8100' || l[1] !== 'auto') return;
    // The record around it: from its 8000 to the next 8000, blank lines not counted (as GDT counts).
    let start = auto;
    while (start > 0 && !texts[start]?.startsWith('8000', 3)) start--;
    let size = 14;
    for (let i = start; i < texts.length && (i === start || !texts[i]?.startsWith('8000', 3)); i++) {
      const text = texts[i] ?? '';
      if (i !== auto && text.trim() !== '') size += Buffer.byteLength(text, 'latin1') + 2;
    }
    texts[auto] = `0148100${String(size).padStart(5, '0')}`;
  });
  return Buffer.from(texts.join(eol) + (finalBreak ? eol : ''), 'latin1');
}

const pad3 = (n: number): string => String(n).padStart(3, '0');

/** A minimal valid 6301 record as lines. */
export function masterData(extra: Line[] = [], charset?: string): Line[] {
  return [
    ['8000', '6301'],
    ['8100', 'auto'],
    ['8315', 'EKG_TYP1'],
    ['8316', 'PRAX_EDV'],
    ...(charset === undefined ? [] : [['9206', charset] as Line]),
    ['9218', '02.10'],
    ['3000', '2345'],
    ...extra,
  ];
}
