import { Type, type Static } from '@sinclair/typebox';
import { invalidInput } from '../core/errors.js';
import type { CommandTable } from '../core/module.js';
import type { GdtDevice } from './gdt-device.js';
import type { GdtConfig } from './gdt-config.js';
import type { OrderStatus } from './order-queue.js';
import { OrderPatientSchema } from './order-plan.js';
import type { ReimportResult } from './reimport.js';
import type { GdtConfigCheck } from './config-check.js';

/**
 * The `gdt.*` commands. Replies carry ids, states and file names — never patient data (they may
 * travel to the vendor's operations team).
 */
export interface GdtCommandHost {
  device(id: string): GdtDevice;
  deviceConfig(id: string): GdtConfig['devices'][number];
  devices(): Array<Record<string, unknown>>;
  reimport(archiveFile: string, deviceId?: string): Promise<ReimportResult>;
  checkConfig(section: unknown): Promise<GdtConfigCheck>;
}

const DeviceId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });
const OrderId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' });

export const OrderArgs = Type.Object(
  {
    deviceId: DeviceId,
    orderId: OrderId,
    test: Type.String({ minLength: 1, maxLength: 60, description: '8402 test code, e.g. EKG01' }),
    patient: OrderPatientSchema,
    comment: Type.Optional(Type.String({ maxLength: 2_000 })),
  },
  { additionalProperties: false },
);
export const CancelArgs = Type.Object({ deviceId: DeviceId, orderId: OrderId }, { additionalProperties: false });
export const ReimportArgs = Type.Object(
  { archiveFile: Type.String({ minLength: 1, maxLength: 255 }), deviceId: Type.Optional(DeviceId) },
  { additionalProperties: false },
);

export interface OrderReply {
  deviceId: string;
  orderId: string;
  status: OrderStatus;
  /** Why a queued file is not in the order folder yet. */
  waiting?: string;
}

export function gdtCommands(host: GdtCommandHost): CommandTable {
  return {
    'gdt.devices.list': {
      description: 'GDT devices with folders, watch mode, queue and import counters (no patient data)',
      handler: async () => ({ devices: host.devices() }),
    },
    'gdt.order': {
      description: 'Sends an examination order (6302) to a device; waits durably while the previous fixed-name file is unconsumed',
      args: OrderArgs,
      handler: async (raw) => {
        const args = raw as Static<typeof OrderArgs>;
        const config = host.deviceConfig(args.deviceId);
        if (config.testCodes.length > 0 && !config.testCodes.includes(args.test)) {
          throw invalidInput(`test code ${JSON.stringify(args.test)} is not offered by device ${args.deviceId} (offers ${config.testCodes.join(', ')})`);
        }
        const device = host.device(args.deviceId);
        const orders = device.orders();
        const accepted = await orders.enqueueOrder({ orderId: args.orderId, testCode: args.test, patient: args.patient, ...(args.comment !== undefined ? { comment: args.comment } : {}) });
        return settle(device, args.deviceId, args.orderId, accepted.status, 'written');
      },
    },
    'gdt.cancel': {
      description: 'Cancels an order: drops it while queued, else sends a 6303 to the device',
      args: CancelArgs,
      handler: async (raw) => {
        const args = raw as Static<typeof CancelArgs>;
        const device = host.device(args.deviceId);
        const accepted = await device.orders().cancel(args.orderId);
        return settle(device, args.deviceId, args.orderId, accepted.status, 'cancel-written');
      },
    },
    'gdt.config.check': {
      description: 'Checks a proposed gdt configuration section (schema, cross-field rules, folders) without saving it',
      args: Type.Object({ gdt: Type.Unknown() }, { additionalProperties: false }),
      handler: async (raw) => host.checkConfig((raw as { gdt: unknown }).gdt),
    },
    'gdt.reimport': {
      description: 'Puts a file from archive/ or quarantine/ back into the result folder to be imported again',
      args: ReimportArgs,
      handler: async (raw) => {
        const args = raw as Static<typeof ReimportArgs>;
        return host.reimport(args.archiveFile, args.deviceId);
      },
    },
  };
}

/** Writes at once when the device is up, so the reply says whether the file is out or why it waits. */
async function settle(device: GdtDevice, deviceId: string, orderId: string, status: OrderStatus, writtenAs: OrderStatus): Promise<OrderReply> {
  if (status !== 'queued' && status !== 'cancel-queued') return { deviceId, orderId, status };
  if (!device.running) return { deviceId, orderId, status, waiting: 'device-unavailable' };
  const orders = device.orders();
  const result = await orders.pump();
  device.nudgeOrders();
  const stillQueued = orders.view()['queued'] as Array<{ kind: string; orderId?: string }>;
  const pending = stillQueued.some((q) => q.orderId === orderId && (writtenAs === 'written' ? q.kind === 'order' : q.kind === 'cancel'));
  if (!pending) return { deviceId, orderId, status: writtenAs };
  return { deviceId, orderId, status, ...(result.waiting !== undefined ? { waiting: result.waiting } : {}) };
}
