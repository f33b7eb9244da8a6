import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';
import { PairingEnvelope, PairingReplyPlain, PairingRequest } from './pairing-protocol.js';

/**
 * JSON Schemas of every payload in the MQTT contract v1. The box validates every incoming payload
 * against these; docs/mqtt-api.md embeds them (`praxisbox mqtt-schemas` prints them).
 */
export const StatePayload = Type.Object(
  {
    online: Type.Boolean(),
    session: Type.Integer({ minimum: 1, description: 'Increases on every connection; a will with a lower session is stale' }),
    version: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { $id: 'state', additionalProperties: false },
);

export const HealthPayload = Type.Object(
  {
    health: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('fault')]),
    modules: Type.Array(
      Type.Object({
        name: Type.String(),
        state: Type.String(),
        health: Type.String(),
        reason: Type.Optional(Type.String()),
      }),
    ),
    outbox: Type.Object({ depth: Type.Integer(), bytes: Type.Integer(), oldestAgeSeconds: Type.Optional(Type.Integer()) }),
    uptimeSeconds: Type.Integer(),
    memory: Type.Object({ rssBytes: Type.Integer(), heapUsedBytes: Type.Integer() }),
    version: Type.String(),
    needsSetup: Type.Boolean(),
    ts: Type.String({ format: 'date-time' }),
  },
  { $id: 'health' },
);

export const EventEnvelope = Type.Object(
  {
    id: Type.String({ description: 'ULID; the cloud de-duplicates on it (delivery is at-least-once)' }),
    seq: Type.Integer({ minimum: 1, description: 'Per box, increasing by one per event' }),
    type: Type.String(),
    ts: Type.String({ format: 'date-time' }),
    data: Type.Unknown(),
  },
  { $id: 'event', additionalProperties: false },
);

export const CommandRequest = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { $id: 'command', additionalProperties: false },
);

export const ErrorBody = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }, { additionalProperties: false }), { description: 'Fields at fault (JSON Pointers) for InvalidInput/InvalidConfig' })),
  },
  { additionalProperties: false },
);

export const CommandResponse = Type.Union(
  [
    Type.Object({ id: Type.Union([Type.String(), Type.Null()]), status: Type.Literal('ok'), data: Type.Unknown() }, { additionalProperties: false }),
    Type.Object({ id: Type.Union([Type.String(), Type.Null()]), status: Type.Literal('error'), error: ErrorBody }, { additionalProperties: false }),
  ],
  { $id: 'response' },
);

export const ConfigDesired = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    config: Type.Record(Type.String(), Type.Unknown(), { description: 'Partial configuration; merged into the current one' }),
  },
  { $id: 'config-desired', additionalProperties: false },
);

export const ConfigReported = Type.Object(
  {
    version: Type.Integer({ description: 'The desired version this report answers' }),
    status: Type.Union([Type.Literal('applied'), Type.Literal('rejected')]),
    appliedVersion: Type.Integer({ description: 'The version now in force (0 = none from the cloud yet)' }),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    ts: Type.String({ format: 'date-time' }),
  },
  { $id: 'config-reported', additionalProperties: false },
);

export const Chunk = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Blob id, the same on every chunk of one blob' }),
    index: Type.Integer({ minimum: 0 }),
    count: Type.Integer({ minimum: 1, maximum: 100_000 }),
    size: Type.Integer({ minimum: 0, description: 'Bytes of the whole blob' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Of the whole blob' }),
    topic: Type.String({ description: 'Topic the re-assembled payload belongs to, relative to the box root (e.g. evt/gdt.result, cmd/print)' }),
    data: Type.String({ description: 'base64 of this chunk' }),
  },
  { $id: 'chunk', additionalProperties: false },
);

export type StatePayload = Static<typeof StatePayload>;
export type HealthPayload = Static<typeof HealthPayload>;
export type CommandRequest = Static<typeof CommandRequest>;
export type CommandResponse = Static<typeof CommandResponse>;
export type ConfigDesired = Static<typeof ConfigDesired>;
export type ConfigReported = Static<typeof ConfigReported>;
export type Chunk = Static<typeof Chunk>;

export const CONTRACT_SCHEMAS: Record<string, TSchema> = {
  state: StatePayload,
  health: HealthPayload,
  event: EventEnvelope,
  command: CommandRequest,
  response: CommandResponse,
  'config-desired': ConfigDesired,
  'config-reported': ConfigReported,
  chunk: Chunk,
  'pairing-request': PairingRequest,
  'pairing-reply': PairingEnvelope,
  'pairing-reply-plain': PairingReplyPlain,
};

/** TypeBox checks formats only when registered; done on first use, not at import. */
function ensureFormats(): void {
  if (!FormatRegistry.Has('date-time')) {
    FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
  }
}

let compiledChecks: ReturnType<typeof compile> | undefined;
function compile() {
  ensureFormats();
  return {
  command: TypeCompiler.Compile(CommandRequest),
  desired: TypeCompiler.Compile(ConfigDesired),
  chunk: TypeCompiler.Compile(Chunk),
  response: TypeCompiler.Compile(CommandResponse),
  state: TypeCompiler.Compile(StatePayload),
  };
}
const compiled = () => (compiledChecks ??= compile());

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

function check<T>(c: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<{ path: string; message: string }> }, value: unknown): Checked<T> {
  if (c.Check(value)) return { ok: true, value: value as T };
  return { ok: false, problems: [...c.Errors(value)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`) };
}

export const checkCommand = (v: unknown): Checked<CommandRequest> => check(compiled().command, v);
export const checkDesired = (v: unknown): Checked<ConfigDesired> => check(compiled().desired, v);
export const checkChunk = (v: unknown): Checked<Chunk> => check(compiled().chunk, v);
export const checkResponse = (v: unknown): Checked<CommandResponse> => check(compiled().response, v);
export const checkState = (v: unknown): Checked<StatePayload> => check(compiled().state, v);

/** Parses a payload as JSON; undefined when it is not JSON (the caller says so without quoting it). */
export function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
