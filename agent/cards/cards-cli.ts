import { readFile } from 'node:fs/promises';
import { describeError, isPraxisboxError } from '../core/errors.js';
import { isCardReadError } from './card-errors.js';
import { readCard, type CardReadOutcome } from './card-reader.js';
import type { ApduMode } from './card-channel.js';
import { createPcscDriver } from './driver.js';
import { localIsoDate, type CardRecord } from './insured-person.js';
import { PcscError, type PcscDriver, type PcscContext } from './pcsc-driver.js';
import { readerMatches } from './reader-name.js';
import { simPerson } from './sim/sim-person.js';
import { VpcdCard, vpcdPort } from './sim/vpcd-card.js';
import { GOOD_CARDS, isVirtualCardType, virtualCard } from './sim/virtual-cards.js';

/**
 * `praxisbox sim card` and `praxisbox card read`. The integrator wires these into commander; they
 * only use the streams given, return an exit code and never call process.exit.
 */
export interface CardsCliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Aborted on Ctrl-C: `sim card` then removes its card and returns. */
  signal?: AbortSignal;
}

export const CardsExit = { ok: 0, failure: 1, usage: 2, unavailable: 3 } as const;

export interface SimCardOptions {
  type: string;
  /** JSON file describing the invented person (see docs/cards.md); defaults fill the rest. */
  data?: string;
  slot?: number;
  host?: string;
  /** Remove the card after this many seconds instead of waiting for Ctrl-C. */
  seconds?: number;
}

const LABEL: Readonly<Record<string, string>> = { egk: 'eGK v5.2 (GKV)', egk51: 'eGK v5.1', pkv: 'PKV eGK', kvk: 'KVK' };

export async function runSimCard(opts: SimCardOptions, io: CardsCliIo): Promise<number> {
  if (!isVirtualCardType(opts.type)) {
    io.stderr.write(`unknown card type "${opts.type}"; one of: ${GOOD_CARDS.join(', ')} (and broken variants, see docs/cards.md)\n`);
    return CardsExit.usage;
  }
  const slot = opts.slot ?? 0;
  if (!Number.isInteger(slot) || slot < 0 || slot > 9) {
    io.stderr.write('--slot must be a small non-negative integer (vpcd slot)\n');
    return CardsExit.usage;
  }
  let person;
  try {
    person = simPerson(opts.data === undefined ? {} : JSON.parse(await readFile(opts.data, 'utf8')));
  } catch (err) {
    io.stderr.write(`cannot use ${opts.data ?? 'the defaults'}: ${err instanceof SyntaxError ? 'not valid JSON' : describeError(err)}\n`);
    return CardsExit.usage;
  }
  const port = vpcdPort(slot);
  const host = opts.host ?? '127.0.0.1';
  const card = new VpcdCard({ card: virtualCard(opts.type, { person }), port, host, reconnect: true });
  const giveUp = new AbortController();
  const onAbort = (): void => giveUp.abort();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const connected = await Promise.race([card.insert().then(() => true), sleep(5_000, giveUp.signal).then(() => false)]);
  giveUp.abort();
  io.signal?.removeEventListener('abort', onAbort);
  if (!connected) {
    await card.remove();
    io.stderr.write(`vpcd does not answer on ${host}:${port}: is pcscd running with vsmartcard-vpcd installed?\n`);
    return CardsExit.unavailable;
  }
  io.stdout.write(`${LABEL[opts.type] ?? opts.type} inserted into vpcd slot ${slot} (${host}:${port}); ${opts.seconds === undefined ? 'Ctrl-C removes it' : `removing it in ${opts.seconds} s`}\n`);
  await sleep(opts.seconds === undefined ? Number.POSITIVE_INFINITY : opts.seconds * 1000, io.signal);
  await card.remove();
  io.stdout.write('card removed\n');
  return CardsExit.ok;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done(): void {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface CardReadOptions {
  /** Reader name (full, or without the index suffix); default: the first reader with a card. */
  reader?: string;
  json?: boolean;
  /** How long to wait for a card when none is inserted yet. */
  waitMs?: number;
  apduMode?: ApduMode;
  /** For tests: another driver. */
  driver?: PcscDriver;
}

async function pickReader(ctx: PcscContext, opts: CardReadOptions, io: CardsCliIo): Promise<string | undefined> {
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  let announced = false;
  for (;;) {
    const readers = ctx.readers();
    const candidates = opts.reader === undefined ? readers : readers.filter((r) => readerMatches(opts.reader ?? '', r.name) || r.name === opts.reader);
    if (opts.reader !== undefined && candidates.length === 0) {
      io.stderr.write(`no reader "${opts.reader}"; readers: ${readers.map((r) => r.name).join(', ') || 'none'}\n`);
      return undefined;
    }
    const withCard = candidates.find((r) => r.present);
    if (withCard) return withCard.name;
    if (Date.now() >= deadline || io.signal?.aborted) {
      io.stderr.write(readers.length === 0 ? 'no card reader found\n' : 'no card inserted\n');
      return undefined;
    }
    if (!announced) io.stderr.write('waiting for a card …\n');
    announced = true;
    await sleep(200, io.signal);
  }
}

export async function runCardRead(opts: CardReadOptions, io: CardsCliIo): Promise<number> {
  const driver = opts.driver ?? createPcscDriver();
  let ctx: PcscContext;
  try {
    ctx = await driver.establish();
  } catch (err) {
    io.stderr.write(`PC/SC not available: ${describeError(err)}\n`);
    return CardsExit.unavailable;
  }
  try {
    const reader = await pickReader(ctx, opts, io);
    if (reader === undefined) return CardsExit.failure;
    const card = await ctx.connect(reader);
    let outcome: CardReadOutcome;
    try {
      outcome = await readCard(
        {
          async transmit(apdu) {
            const r = await card.transmit(apdu, 0x10002);
            if (r.length < 2) throw new PcscError('transaction-failed', 'PC/SC transmit returned no status word');
            return r;
          },
        },
        { source: 'pcsc', apduMode: opts.apduMode ?? 'short', retries: 2, today: localIsoDate(Date.now()) },
      );
    } finally {
      card.disconnect();
    }
    io.stdout.write(opts.json ? `${JSON.stringify({ reader, ...outcome.record }, null, 2)}\n` : formatRecord(reader, outcome.record));
    return CardsExit.ok;
  } catch (err) {
    const code = isCardReadError(err) ? err.cardCode : 'unreadable';
    const message = isPraxisboxError(err) ? err.message : describeError(err);
    io.stderr.write(opts.json ? `${JSON.stringify({ error: { code, message } })}\n` : `card not read (${code}): ${message}\n`);
    return CardsExit.failure;
  } finally {
    ctx.close();
  }
}

/** The record for a person at a terminal: what reception would check against the card. */
export function formatRecord(reader: string, r: CardRecord): string {
  const p = r.person;
  const c = r.coverage;
  const name = [p.title, p.firstName, p.namePrefix, p.lastName, p.nameSuffix].filter(Boolean).join(' ');
  const address = p.address ? [[p.address.street, p.address.houseNumber].filter(Boolean).join(' '), [p.address.postcode, p.address.city].filter(Boolean).join(' '), p.address.country].filter(Boolean).join(', ') : '-';
  const cardLine = r.cardType === 'egk' ? `eGK (schema ${r.card.schema}, generation ${r.card.generation ?? 'unknown'})` : 'KVK (memory card)';
  const coverage = [c.kind.toUpperCase(), c.start ? `from ${c.start}` : undefined, c.end ? `until ${c.end}` : undefined, c.cardValidUntil ? `card valid until ${c.cardValidUntil}` : undefined, c.insuredType, c.wop ? `WOP ${c.wop}` : undefined]
    .filter(Boolean)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['Reader', reader],
    ['Card', cardLine],
    ['Name', name],
    ['Born', p.birthDate],
    ['Sex', p.sex ?? '-'],
    ['Insurance no.', p.insuranceNumber],
    ['Address', address],
    ['Payer', `${c.payer.name} (${c.payer.id})`],
    ['Coverage', coverage],
    ['Status', r.status.validity + (r.status.vsdUpdatePending ? ', VSD update pending' : '')],
    ['Warnings', r.warnings.map((w) => w.message).join('; ') || '-'],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(15)}${v}\n`).join('');
}
