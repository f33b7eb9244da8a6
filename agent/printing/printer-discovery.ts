import net from 'node:net';
import type { Service } from 'bonjour-service';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

/**
 * Finds IPP printers on the practice network by DNS-SD over multicast DNS (`_ipp._tcp`,
 * `_ipps._tcp`; Bonjour Printing Specification 1.2 TXT keys) for the setup page. bonjour-service
 * speaks mDNS itself on UDP 5353 (shared with avahi if one runs: SO_REUSEADDR), so the box needs
 * no avahi daemon. USB printers appear here too when ipp-usb announces them.
 */

export interface DiscoveredPrinter {
  /** The instance name the printer announces, e.g. "HP LaserJet M404 [A1B2C3]". */
  name: string;
  /** Ready for the printing config: an IPv4 address when one was announced (the box may not resolve .local names). */
  uri: string;
  secure: boolean;
  host: string;
  addresses: string[];
  port: number;
  /** `rp`: the resource path, usually `ipp/print`. */
  resourcePath: string;
  makeAndModel?: string;
  uuid?: string;
  /** From `pdl`; PDF printing needs application/pdf. */
  formats: string[];
  acceptsPdf: boolean;
  color?: boolean;
  duplex?: boolean;
  adminUrl?: string;
}

type Txt = Readonly<Record<string, unknown>>;

const text = (txt: Txt, key: string): string | undefined => {
  // TXT keys are case-insensitive (RFC 6763 §6.4); bonjour-service keeps them as sent.
  const found = Object.entries(txt).find(([k]) => k.toLowerCase() === key.toLowerCase());
  const value = found?.[1];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
};
const flag = (txt: Txt, key: string): boolean | undefined => {
  const v = text(txt, key);
  return v === undefined ? undefined : v.toUpperCase() === 'T';
};

/** One announced service as the setup page shows it (pure). */
export function describeService(s: { name: string; type: string; host: string; port: number; addresses?: readonly string[]; txt?: Txt }): DiscoveredPrinter {
  const txt = s.txt ?? {};
  const secure = s.type === 'ipps';
  const addresses = [...(s.addresses ?? [])];
  const v4 = addresses.find((a) => net.isIPv4(a));
  const v6 = addresses.find((a) => net.isIPv6(a) && !a.toLowerCase().startsWith('fe80'));
  const host = v4 ?? (v6 !== undefined ? `[${v6}]` : s.host);
  const resourcePath = (text(txt, 'rp') ?? 'ipp/print').replace(/^\/+/, '');
  const formats = (text(txt, 'pdl') ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  const makeAndModel = text(txt, 'ty');
  const uuid = text(txt, 'UUID');
  const color = flag(txt, 'Color');
  const duplex = flag(txt, 'Duplex');
  const adminUrl = text(txt, 'adminurl');
  return {
    name: s.name,
    uri: `${secure ? 'ipps' : 'ipp'}://${host}${s.port === 631 ? '' : `:${s.port}`}/${resourcePath}`,
    secure,
    host: s.host,
    addresses,
    port: s.port,
    resourcePath,
    ...(makeAndModel !== undefined ? { makeAndModel } : {}),
    ...(uuid !== undefined ? { uuid } : {}),
    formats,
    acceptsPdf: formats.some((f) => f.toLowerCase() === 'application/pdf'),
    ...(color !== undefined ? { color } : {}),
    ...(duplex !== undefined ? { duplex } : {}),
    ...(adminUrl !== undefined ? { adminUrl } : {}),
  };
}

/**
 * A printer that announces both ipp and ipps (most do) is one printer: keyed by UUID (else name),
 * the ipps entry wins. Sorted by name.
 */
export function mergeDiscovered(found: readonly DiscoveredPrinter[]): DiscoveredPrinter[] {
  const byKey = new Map<string, DiscoveredPrinter>();
  for (const p of found) {
    const key = (p.uuid ?? p.name).toLowerCase();
    const seen = byKey.get(key);
    if (!seen || (p.secure && !seen.secure)) byKey.set(key, p);
  }
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface DiscoverOptions {
  /** How long to listen for answers; printers answer within a second, sleepy ones later. */
  durationMs?: number;
  signal?: AbortSignal;
}

export async function discoverPrinters(options: DiscoverOptions = {}): Promise<DiscoveredPrinter[]> {
  const found: DiscoveredPrinter[] = [];
  let socketError: unknown;
  // Loaded on first discovery, not with the printing module: ~2-3 MB of idle RSS for a feature
  // used during setup (docs/agent.md, "Memory budget").
  const { Bonjour } = await import('bonjour-service');
  const bonjour = new Bonjour({}, (err: unknown) => {
    socketError = err;
  });
  const onUp = (s: Service): void => {
    found.push(describeService({ name: s.name, type: s.type, host: s.host, port: s.port, ...(s.addresses ? { addresses: s.addresses } : {}), txt: (s.txt ?? {}) as Txt }));
  };
  const browsers = [bonjour.find({ type: 'ipp', protocol: 'tcp' }, onUp), bonjour.find({ type: 'ipps', protocol: 'tcp' }, onUp)];
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.durationMs ?? 3_000);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  } finally {
    for (const b of browsers) b.stop();
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
  }
  if (socketError !== undefined && found.length === 0) {
    const code = (socketError as { code?: unknown }).code;
    throw new PraxisboxError(ErrorCode.DeviceUnavailable, `multicast DNS is not usable here (${typeof code === 'string' ? code : 'socket error'})`);
  }
  return mergeDiscovered(found);
}
