import { Type } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PraxisboxError, invalidInput } from '../core/errors.js';
import type { CommandTable } from '../core/module.js';
import type { JobStore } from './job-store.js';
import { ticketFor, type MappingWarning } from './mapping-check.js';
import type { PrintQueue } from './print-queue.js';
import { jobView, type PrintJobRecord } from './print-job.js';
import type { DiscoveredPrinter, DiscoverOptions } from './printer-discovery.js';
import type { PrinterMonitor, PrinterObservation } from './printer-monitor.js';
import type { PrinterSecrets } from './printer-secrets.js';
import { DOCUMENT_TYPES, DOCUMENT_TYPE_PATTERN, PRINTER_ID_PATTERN, mappingFor, type PrintingConfig } from './printing-config.js';
import { decodePdfArgument } from './pdf-argument.js';
import { testPagePdf } from './test-page.js';

export interface PrintingCommandDeps {
  config: () => PrintingConfig;
  queue: () => PrintQueue;
  store: () => JobStore;
  monitor: () => PrinterMonitor;
  hasClient: (printerId: string) => boolean;
  warnings: () => MappingWarning[];
  secrets: PrinterSecrets;
  boxId: () => string;
  clock: Clock;
  listWaitMs: number;
  discover: (options: DiscoverOptions) => Promise<DiscoveredPrinter[]>;
  passwordChanged: (printerId: string) => Promise<void>;
}

const DocType = Type.String({ pattern: DOCUMENT_TYPE_PATTERN });
const PrinterId = Type.String({ pattern: PRINTER_ID_PATTERN });
const JobId = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });

function accepted(job: PrintJobRecord, warnings: MappingWarning[]): Record<string, unknown> {
  const own = warnings.filter((w) => w.printerId === job.printerId && (w.docType === job.docType || job.test)).map((w) => w.message);
  return { ...jobView(job), ...(own.length > 0 ? { warnings: own } : {}) };
}

/** The commands of the printing module (argument schemas are checked by the dispatcher). */
export function printingCommands(deps: PrintingCommandDeps): CommandTable {
  const printerOf = (printerId: string) => {
    const printer = deps.config().printers.find((p) => p.id === printerId);
    if (!printer) throw new PraxisboxError(ErrorCode.NotFound, `no printer with id ${printerId}`);
    return printer;
  };
  return {
    'printers.list': {
      description: 'Configured printers with capabilities, state, document types and mapping warnings (asks each printer now)',
      handler: async () => {
        const config = deps.config();
        const monitor = deps.monitor();
        await Promise.all(config.printers.map((p) => Promise.race([monitor.refresh(p.id), new Promise((r) => setTimeout(r, deps.listWaitMs).unref())])));
        const warnings = deps.warnings();
        const printers = await Promise.all(
          config.printers.map(async (p) => ({
            id: p.id,
            name: p.name,
            uri: p.uri,
            tls: p.uri.startsWith('ipps:') ? (p.certSha256.length > 0 ? 'pinned' : p.caFile !== '' ? 'ca' : 'system') : 'none',
            auth: p.username !== '' ? { username: p.username, passwordSet: (await deps.secrets.get(p.id)) !== undefined } : undefined,
            usable: deps.hasClient(p.id),
            ...observationView(monitor.observation(p.id)),
            documentTypes: Object.entries(config.documentTypes).filter(([, m]) => m.printer === p.id).map(([t]) => t),
            warnings: warnings.filter((w) => w.printerId === p.id).map((w) => `${w.docType}: ${w.message}`),
          })),
        );
        const documentTypes = [...new Set([...Object.keys(DOCUMENT_TYPES), ...Object.keys(config.documentTypes)])].map((docType) => {
          const m = mappingFor(config, docType);
          return {
            docType,
            label: DOCUMENT_TYPES[docType as keyof typeof DOCUMENT_TYPES] ?? docType,
            ...(m ? { printerId: m.mapping.printer, via: m.via, ticket: ticketFor(m.mapping) } : { printerId: null }),
          };
        });
        return { printers, documentTypes };
      },
    },
    'printers.discover': {
      description: 'IPP printers announced on the network (DNS-SD _ipp._tcp / _ipps._tcp)',
      args: Type.Object({ durationMs: Type.Integer({ default: 3_000, minimum: 500, maximum: 15_000 }) }, { additionalProperties: false }),
      handler: async (args, ctx) => {
        const { durationMs } = args as { durationMs: number };
        return { printers: await deps.discover({ durationMs, ...(ctx.signal ? { signal: ctx.signal } : {}) }) };
      },
    },
    'printers.set-password': {
      description: 'Stores the HTTP Basic password of a printer (0600 file, never in the configuration); empty removes it',
      args: Type.Object({ printerId: PrinterId, password: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
      handler: async (args) => {
        const { printerId, password } = args as { printerId: string; password: string };
        printerOf(printerId);
        if (password === '') await deps.secrets.remove(printerId);
        else await deps.secrets.set(printerId, password);
        await deps.passwordChanged(printerId);
        return { printerId, passwordSet: password !== '' };
      },
    },
    print: {
      description: 'Queues a PDF for the printer and tray of its document type; replies with the job id once the job is on disk',
      args: Type.Object(
        {
          docType: DocType,
          pdf: Type.String({ minLength: 8, description: 'The PDF, base64' }),
          copies: Type.Optional(Type.Integer({ minimum: 1, maximum: 99 })),
          jobName: Type.Optional(Type.String({ maxLength: 200, description: 'Shown on the printer; may name the patient: never logged' })),
          requestId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Idempotency key (e.g. the command id): the same key returns the same job' })),
        },
        { additionalProperties: false },
      ),
      handler: async (args, ctx) => {
        const given = args as { docType: string; pdf: string; copies?: number; jobName?: string; requestId?: string };
        // A cloud command re-run after a crash carries the same command id: never a second job.
        const requestId = given.requestId ?? (ctx.commandId !== undefined ? `${ctx.source}-${ctx.commandId}` : undefined);
        const a = { ...given, ...(requestId !== undefined ? { requestId } : {}) };
        const config = deps.config();
        if (a.requestId !== undefined) {
          const existing = deps.store().byRequestId(a.requestId);
          if (existing) return { ...accepted(existing, deps.warnings()), duplicate: true };
        }
        const m = mappingFor(config, a.docType);
        if (!m) throw new PraxisboxError(ErrorCode.InvalidConfig, `no printer configured for document type ${a.docType} (nor for other)`);
        printerOf(m.mapping.printer);
        const document = decodePdfArgument(a.pdf, config.queue.maxDocumentBytes);
        const job = await deps.queue().submit({
          docType: a.docType,
          printerId: m.mapping.printer,
          ticket: ticketFor(m.mapping, a.copies),
          document,
          ...(a.jobName !== undefined ? { jobName: a.jobName } : {}),
          ...(a.requestId !== undefined ? { requestId: a.requestId } : {}),
        });
        return accepted(job, deps.warnings());
      },
    },
    'print.cancel': {
      description: 'Cancels a print job: at once when not yet sent, else at the printer (Cancel-Job)',
      args: Type.Object({ jobId: JobId }, { additionalProperties: false }),
      handler: async (args) => jobView(await deps.queue().cancel((args as { jobId: string }).jobId)),
    },
    'print.jobs': {
      description: 'Print jobs of the last keepFinishedHours, oldest first (no job names)',
      args: Type.Object({ jobId: Type.Optional(JobId), unfinished: Type.Boolean({ default: false }) }, { additionalProperties: false }),
      handler: async (args) => {
        const { jobId, unfinished } = args as { jobId?: string; unfinished: boolean };
        if (jobId !== undefined) {
          const job = deps.store().get(jobId);
          if (!job) throw new PraxisboxError(ErrorCode.NotFound, 'no print job with this id');
          return jobView(job);
        }
        const jobs = deps.store().all().filter((j) => !unfinished || !['completed', 'failed', 'canceled'].includes(j.state));
        return { jobs: jobs.map(jobView) };
      },
    },
    'print.test': {
      description: 'Prints a test page (box id, printer, tray) through the queue; with docType, on that mapping\'s tray',
      args: Type.Object({ printerId: PrinterId, docType: Type.Optional(DocType), tray: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, { additionalProperties: false }),
      handler: async (args) => {
        const a = args as { printerId: string; docType?: string; tray?: string };
        const config = deps.config();
        const printer = printerOf(a.printerId);
        const mapping = a.docType !== undefined ? config.documentTypes[a.docType] : undefined;
        if (a.docType !== undefined && !mapping) throw invalidInput(`document type ${a.docType} has no mapping`);
        const base = mapping ? ticketFor(mapping, 1) : { copies: 1 };
        const ticket = a.tray !== undefined ? { ...base, tray: a.tray } : base;
        const label = a.docType !== undefined ? (DOCUMENT_TYPES[a.docType as keyof typeof DOCUMENT_TYPES] ?? a.docType) : undefined;
        const pdf = testPagePdf({
          boxId: deps.boxId(),
          printerName: printer.name !== '' ? `${printer.name} (${printer.id})` : printer.id,
          tray: ticket.tray,
          ...(label !== undefined ? { documentType: label } : {}),
          printedAt: new Date(deps.clock.now()),
        });
        const job = await deps.queue().submit({ docType: a.docType ?? 'test', printerId: printer.id, ticket, document: pdf, test: true });
        return accepted(job, deps.warnings());
      },
    },
  };
}

function observationView(o: PrinterObservation | undefined): Record<string, unknown> {
  if (!o) return { reachable: null };
  const caps = o.capabilities;
  return {
    reachable: o.reachable,
    checkedAt: new Date(o.checkedAt).toISOString(),
    ...(o.error !== undefined ? { error: o.error } : {}),
    ...(caps
      ? {
          state: {
            state: o.reachable ? caps.status.state : 'unreachable',
            reasons: caps.status.reasons,
            problems: caps.status.problems,
            acceptingJobs: caps.status.acceptingJobs,
            queuedJobs: caps.status.queuedJobs,
          },
          capabilities: {
            makeAndModel: caps.makeAndModel,
            acceptsPdf: caps.acceptsPdf,
            formats: caps.documentFormats,
            trays: caps.trays,
            mediaReady: caps.mediaReady,
            sides: caps.sides.supported,
            duplex: caps.sides.duplex,
            color: caps.color.supported,
            colorModes: caps.color.modes,
            copiesMax: caps.copies.max,
          },
        }
      : {}),
  };
}
