/** Release versions: `MAJOR.MINOR.PATCH` with an optional pre-release (`-rc.1`); no build metadata. */
export const VERSION_PATTERN = '^(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})(-[0-9A-Za-z][0-9A-Za-z.]{0,30})?$';
const VERSION_RE = new RegExp(VERSION_PATTERN);

export function isReleaseVersion(v: string): boolean {
  return VERSION_RE.test(v);
}

function identifiers(pre: string): (number | string)[] {
  return pre.split('.').map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p));
}

/** Semver precedence: negative when a < b, 0 when equal, positive when a > b. Throws on non-release versions. */
export function compareVersions(a: string, b: string): number {
  const ma = VERSION_RE.exec(a);
  const mb = VERSION_RE.exec(b);
  if (!ma || !mb) throw new Error(`not a release version: ${!ma ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(ma[i]) - Number(mb[i]);
    if (d !== 0) return d;
  }
  const pa = ma[4]?.slice(1);
  const pb = mb[4]?.slice(1);
  if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1;
  const ia = identifiers(pa);
  const ib = identifiers(pb);
  for (let i = 0; i < Math.max(ia.length, ib.length); i++) {
    const x = ia[i];
    const y = ib[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
