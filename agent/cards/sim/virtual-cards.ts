import { gzipSync } from 'node:zlib';
import { SW } from '../apdu.js';
import { IsoCard, type SimCardImage, type SimFault } from './iso-card.js';
import { egkImage, egkParts, gzipXml, type EgkVariant } from './egk-image.js';
import { kvkImage } from './kvk-image.js';
import { simPerson, type SimPerson } from './sim-person.js';
import { personalDataXml } from './vsd-xml-builder.js';

/**
 * The catalogue of virtual cards: the good ones people try the box with, and the broken ones every
 * reader must turn into a clean `card.error`.
 */
export const GOOD_CARDS = ['egk', 'egk51', 'pkv', 'kvk', 'kvk-pkv', 'kvk-old-aid'] as const;
export const BROKEN_CARDS = [
  'bad-gzip',
  'truncated',
  'inflate-bomb',
  'xml-dtd',
  'xml-entity',
  'kvk-bad-checksum',
  'removed-mid-read',
  'unsupported',
] as const;
/** Readable, but only with the retry rule: the reader answers 6B00 and 6986 once mid-file. */
export const QUIRKY_CARDS = ['spurious-errors'] as const;

export type GoodCard = (typeof GOOD_CARDS)[number];
export type BrokenCard = (typeof BROKEN_CARDS)[number];
export type VirtualCardType = GoodCard | BrokenCard | (typeof QUIRKY_CARDS)[number];

export const isVirtualCardType = (s: string): s is VirtualCardType =>
  (GOOD_CARDS as readonly string[]).includes(s) || (BROKEN_CARDS as readonly string[]).includes(s) || (QUIRKY_CARDS as readonly string[]).includes(s);

export interface VirtualCardOptions {
  person?: SimPerson;
  /** Whether the virtual eGK accepts extended-length READ BINARY (default true, like a G2 eGK). */
  extendedLength?: boolean;
  /** Extra faults on top of the type's own. */
  faults?: SimFault[];
  now?: Date;
}

// A DTD that would expand an entity if a parser let it: the reader must refuse the document.
const DTD_XML = (inner: string): string =>
  inner.replace('?>\n', '?>\n<!DOCTYPE UC_PersoenlicheVersichertendatenXML [<!ENTITY n "Expanded">]>\n').replace(/<Vorname>[^<]*</, '<Vorname>&n;<');

function egk(variant: EgkVariant, person: SimPerson, options: VirtualCardOptions, tweak?: (p: ReturnType<typeof egkParts>) => void): SimCardImage {
  const parts = egkParts(person, variant, options.now);
  tweak?.(parts);
  if (options.extendedLength !== undefined) parts.extendedLength = options.extendedLength;
  return egkImage(parts);
}

/** Builds a fresh card (its own state and APDU log) of the given type. */
export function virtualCard(type: VirtualCardType, options: VirtualCardOptions = {}): IsoCard {
  const person = options.person ?? simPerson();
  const faults = [...(options.faults ?? [])];
  let image: SimCardImage;
  switch (type) {
    case 'egk':
    case 'egk51':
    case 'pkv':
      image = egk(type, person, options);
      break;
    case 'kvk':
      image = kvkImage(person);
      break;
    case 'kvk-pkv':
      image = kvkImage(person, { pkv: true });
      break;
    case 'kvk-old-aid':
      image = kvkImage(person, { oldAid: true });
      break;
    case 'kvk-bad-checksum':
      image = kvkImage(person, { corruptChecksum: 0x5a });
      break;
    case 'bad-gzip':
      image = egk('egk', person, options, (p) => {
        const broken = Uint8Array.from(p.pdGzip);
        broken.fill(0xff, 10, Math.min(broken.length - 8, 40));
        p.pdGzip = broken;
      });
      break;
    case 'truncated':
      // The header promises the whole gzip member, the file ends in the middle of it.
      image = egk('egk', person, options, (p) => {
        p.pdFileBytes = 2 + Math.floor(p.pdGzip.length / 2);
      });
      break;
    case 'inflate-bomb':
      image = egk('egk', person, options, (p) => {
        p.pdGzip = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20), { level: 9 });
      });
      break;
    case 'xml-dtd':
      image = egk('egk', person, options, (p) => {
        p.pdGzip = gzipXml(DTD_XML(personalDataXml(person, '5.2')));
      });
      break;
    case 'xml-entity':
      image = egk('egk', person, options, (p) => {
        p.pdGzip = gzipXml(personalDataXml(person, '5.2').replace(/<Vorname>[^<]*</, '<Vorname>&undeclared;<'));
      });
      break;
    case 'removed-mid-read':
      image = egk('egk', person, options);
      // Version2, SELECT HCA, StatusVD, first PD read — the card leaves during the fifth command.
      faults.push({ at: 5, remove: true });
      break;
    case 'spurious-errors':
      image = egk('egk', person, options);
      faults.push({ at: 5, sw: SW.wrongOffset }, { at: 9, sw: SW.noCurrentEf });
      break;
    case 'unsupported':
      image = { atr: Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]), mf: [], applications: [], extendedLength: false };
      break;
  }
  return new IsoCard(image, faults);
}
