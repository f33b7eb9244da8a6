import { Type } from '@sinclair/typebox';

/** Configuration of the cloud link. Credentials are not here: they live in their own 0600 file. */
export const CloudSection = Type.Object(
  {
    url: Type.String({
      default: '',
      description: 'Broker URL (mqtts://host:8883, wss://…); empty = the embedded local broker (development / stand-alone)',
    }),
    protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], { default: 5, description: '5 = MQTT 5; 4 = MQTT 3.1.1 fallback' }),
    caFile: Type.String({ default: '', description: 'PEM CA bundle for the broker; empty = system CAs' }),
    clientCertFile: Type.String({ default: '', description: 'PEM client certificate (mutual TLS), from pairing' }),
    clientKeyFile: Type.String({ default: '' }),
    keepaliveSeconds: Type.Integer({ default: 30, minimum: 5, maximum: 600 }),
    connectTimeoutSeconds: Type.Integer({ default: 20, minimum: 2, maximum: 300 }),
    reconnectMinMs: Type.Integer({ default: 1_000, minimum: 100 }),
    reconnectMaxMs: Type.Integer({ default: 300_000, minimum: 1_000 }),
    inflightWindow: Type.Integer({ default: 100, minimum: 1, maximum: 65_000, description: 'Events published and not yet acknowledged at once' }),
    maxMessageBytes: Type.Integer({ default: 256 * 1024, minimum: 16 * 1024, maximum: 256 * 1024 * 1024, description: 'Larger payloads are split into chunk messages' }),
    healthIntervalSeconds: Type.Integer({ default: 60, minimum: 5 }),
    commandRetentionHours: Type.Number({ default: 48, minimum: 24, description: 'How long command results are kept for duplicate ids' }),
    provisioningUsername: Type.String({ default: 'praxisbox-provisioning', description: 'Public bootstrap account for pairing requests (may only send requests and read sealed replies)' }),
    provisioningPassword: Type.String({ default: 'praxisbox-provisioning', description: 'Password of the bootstrap account: public, not a secret' }),
  },
  { default: {}, additionalProperties: false },
);

export const BrokerRight = Type.Union([Type.Literal('events'), Type.Literal('commands')]);

export const LocalBrokerUser = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
    passwordHash: Type.String({ pattern: '^scrypt\\$', description: 'scrypt$N$r$p$salt$hash, made by `praxisbox broker-user add`' }),
    rights: Type.Array(BrokerRight, { default: ['events'], uniqueItems: true, description: 'events = read events, state, health and replies; commands = send commands' }),
  },
  { additionalProperties: false },
);

export const LocalBrokerSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '127.0.0.1', description: '0.0.0.0 (or a LAN address) to serve the practice network' }),
    port: Type.Integer({ default: 1883, minimum: 0, maximum: 65_535 }),
    maxConnections: Type.Integer({ default: 50, minimum: 1 }),
    maxMessageBytes: Type.Integer({ default: 256 * 1024, minimum: 1024 }),
    users: Type.Array(LocalBrokerUser, { default: [] }),
  },
  { default: {}, additionalProperties: false },
);
