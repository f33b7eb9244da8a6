import { AID_HCA, AID_KVK, AID_KVK_OLD, AID_MF, EGK_FILES, SHORT_READ_MAX, SW, type ResponseApdu } from './apdu.js';
import { CardErrorCode, CardReadError } from './card-errors.js';
import { CardIo, isData, unreadable, type ApduMode, type CardChannel } from './card-channel.js';
import { readEgkFiles } from './egk-reader.js';
import { parseKvk } from './kvk-template.js';
import { inflateVsd, parseStatusVd, parseVersion2, MAX_INFLATED_BYTES, type Version2 } from './vsd-container.js';
import { parseVsdXml, DEFAULT_XML_LIMITS, type XmlLimits } from './vsd-xml.js';
import { parseInsuranceData, parsePersonalData } from './vsd-document.js';
import { validityOn, type CardFacts, type CardRecord, type CardSource, type CardType, type CardWarning } from './insured-person.js';

/**
 * Reads whatever card is in the terminal: detection by behaviour (SELECT of DF.HCA, then of the KVK
 * application under both AIDs) — ATRs differ across card generations and vendors — followed by the
 * eGK or KVK plan, and decoding into one `CardRecord`. Either a complete record or a CardReadError:
 * never anything half-filled.
 */
export interface ReadCardOptions {
  source: CardSource;
  apduMode: ApduMode;
  retries: number;
  /** Today's date (ISO, local) for the validity check. */
  today: string;
  /** Called once the card type is known, before the files are read. */
  onDetected?: (type: CardType | 'unknown') => void;
  xmlLimits?: XmlLimits;
  maxInflatedBytes?: number;
}

export interface CardReadOutcome {
  record: CardRecord;
  apdus: number;
  extendedLength?: boolean;
}

export async function readCard(channel: CardChannel, options: ReadCardOptions): Promise<CardReadOutcome> {
  const io = new CardIo(channel);
  // EF.Version2 lives in the MF, which is current right after the card was powered: read it before
  // DF.HCA is selected, so the generation costs one command instead of two.
  const v2 = await io.readSfi(EGK_FILES.version2.sfi, 0, SHORT_READ_MAX);
  if (await io.selectApplication(AID_HCA)) {
    options.onDetected?.('egk');
    return readEgk(io, v2, options);
  }
  if ((await io.selectApplication(AID_KVK)) || (await io.selectApplication(AID_KVK_OLD))) {
    options.onDetected?.('kvk');
    return readKvk(io, options);
  }
  options.onDetected?.('unknown');
  throw new CardReadError(CardErrorCode.unsupported, 'neither an eGK nor a KVK: no known application on the card');
}

/**
 * "File not found" for EF.Version2 means a G1 card — or a card that was not reset since someone else
 * selected DF.HCA: then the MF is selected explicitly and the file read once more.
 */
async function generationOf(io: CardIo, first: ResponseApdu): Promise<Version2> {
  if (isData(first.sw)) return parseVersion2(first.data);
  if (first.sw !== SW.fileNotFound) return { generation: 'unknown' };
  if (!(await io.selectApplication(AID_MF))) return { generation: 'unknown' };
  const again = await io.readSfi(EGK_FILES.version2.sfi, 0, SHORT_READ_MAX);
  if (isData(again.sw)) return parseVersion2(again.data);
  return { generation: again.sw === SW.fileNotFound ? 'G1' : 'unknown' };
}

async function readEgk(io: CardIo, v2: ResponseApdu, options: ReadCardOptions): Promise<CardReadOutcome> {
  const files = await readEgkFiles(io, { apduMode: options.apduMode, retries: options.retries });
  const version2 = await generationOf(io, v2);
  const limits = options.xmlLimits ?? DEFAULT_XML_LIMITS;
  const maxInflated = options.maxInflatedBytes ?? MAX_INFLATED_BYTES;
  const pd = parsePersonalData(parseVsdXml(inflateVsd(files.pd, 'EF.PD', maxInflated), 'EF.PD', limits));
  const vd = parseInsuranceData(parseVsdXml(inflateVsd(files.vd, 'EF.VD', maxInflated), 'EF.VD', limits));
  const status = parseStatusVd(files.statusVd);

  const warnings: CardWarning[] = [...pd.warnings];
  if (pd.schema !== vd.schema) warnings.push({ code: 'vsd-schema-mismatch', message: 'EF.PD and EF.VD use different schema versions' });
  if (status.updatePending) {
    warnings.push({ code: 'vsd-update-pending', message: 'an update of the insurance data on the card was not completed' });
  }
  if (status.unknownStatus) warnings.push({ code: 'vsd-status-unknown', message: 'EF.StatusVD has an unknown status value' });

  const card: CardFacts = { schema: pd.schema, generation: version2.generation };
  if (version2.objectSystemVersion !== undefined) card.objectSystemVersion = version2.objectSystemVersion;
  if (status.version !== undefined) card.vsdVersion = status.version;
  const record: CardRecord = {
    source: options.source,
    cardType: 'egk',
    card,
    person: pd.person,
    coverage: vd.coverage,
    status: {
      validity: validityOn(vd.coverage, options.today),
      vsdUpdatePending: status.updatePending,
      onlineCheck: 'not-performed',
      ...(status.writtenAt !== undefined ? { vsdWrittenAt: status.writtenAt } : {}),
    },
    warnings,
  };
  const outcome: CardReadOutcome = { record, apdus: io.apdus };
  if (files.extendedLength !== undefined) outcome.extendedLength = files.extendedLength;
  return outcome;
}

async function readKvk(io: CardIo, options: ReadCardOptions): Promise<CardReadOutcome> {
  // One short READ BINARY with Le = 256 returns the whole memory card; 6282 (end of file before Le
  // bytes) is the normal answer, not an error.
  const r = await io.read(0, 0x100);
  if (!isData(r.sw)) throw unreadable('KVK', r.sw);
  const kvk = parseKvk(r.data);
  const record: CardRecord = {
    source: options.source,
    cardType: 'kvk',
    card: { schema: 'kvk' },
    person: kvk.person,
    coverage: kvk.coverage,
    status: { validity: validityOn(kvk.coverage, options.today), onlineCheck: 'not-performed' },
    warnings: kvk.warnings,
  };
  return { record, apdus: io.apdus };
}
