import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { CloudSim } from '../cloud/sim/cloud-sim.js';
import type { ControlReply, PairingServiceOptions } from '../cloud/sim/pairing-service.js';
import { Exit, type CliContext } from './main.js';

interface SimOptions {
  url?: string;
  box?: string;
  username?: string;
  password?: string;
  ca?: string;
  protocol?: string;
}

/**
 * `praxisbox cloud-sim`: the reference cloud peer for people and tests. Connects to a broker (by
 * default the embedded one of a local agent) and speaks the cloud side of the MQTT contract.
 */
export function registerCloudSimCommands(program: Command, ctx: CliContext): void {
  const sim = program
    .command('cloud-sim')
    .description('the reference cloud peer: watch boxes and events, send commands, push configuration')
    .option('--url <url>', 'broker URL (default: the local agent\'s embedded broker, mqtt://127.0.0.1:$PRAXISBOX_MQTT_PORT or 1883)')
    .option('--box <id>', 'box id (default: the only box seen)')
    .option('--username <name>', 'broker user name')
    .option('--password <password>', 'broker password')
    .option('--ca <file>', 'CA certificate (PEM) for mqtts://')
    .option('--protocol <4|5>', 'MQTT protocol version (default: 5, falling back to 3.1.1)');

  sim
    .command('watch', { isDefault: true })
    .description('print every box\'s state and health, and every event (de-duplicated by id) as it arrives, and answer pairing requests (approve/deny them with `cloud-sim approve|deny CODE`); Ctrl-C ends')
    .option('--for <seconds>', 'stop after this many seconds')
    .option('--code-ttl <seconds>', 'how long a pairing code stays valid', '600')
    .option('--poll-interval <seconds>', 'how often a box polls while its pairing is pending', '5')
    .option('--dynsec', 'make and remove box accounts with Mosquitto\'s dynamic security plugin (--username must be a dynsec admin)')
    .action(async (opts: { for?: string; codeTtl: string; pollInterval: string; dynsec?: boolean }) => {
      const simOpts = sim.opts<SimOptions>();
      const cloud = await connect(ctx, simOpts, {
        codeTtlSeconds: positive(opts.codeTtl, 600),
        intervalSeconds: positive(opts.pollInterval, 5),
        ...(opts.dynsec ? { dynsec: { ownUser: simOpts.username ?? 'admin' } } : {}),
      });
      ctx.io.stdout.write('cloud-sim ready (answering pairing requests)\n');
      const printed = new Map<string, string>();
      const show = (): void => {
        for (const p of cloud.pairing?.cloud.list() ?? []) {
          const line = `pairing ${p.userCode} box ${p.boxId}: ${p.phase}${p.account ? ` (account ${p.account.name})` : ''}, expires ${p.expiresAt}`;
          if (printed.get(p.userCode) !== line) {
            printed.set(p.userCode, line);
            ctx.io.stdout.write(`${line}\n`);
          }
        }
        for (const b of cloud.boxes()) {
          const line = `box ${b.boxId}: ${b.state ? (b.state.online ? `online (session ${b.state.session}, version ${b.state.version ?? '?'})` : `offline (session ${b.state.session})`) : 'state unknown'}, health ${b.health?.health ?? 'unknown'}`;
          if (printed.get(b.boxId) !== line) {
            printed.set(b.boxId, line);
            ctx.io.stdout.write(`${line}\n`);
            for (const m of b.health?.modules ?? []) if (m.health !== 'ok') ctx.io.stdout.write(`  ${m.name}: ${m.state}, ${m.health}${m.reason ? ` — ${m.reason}` : ''}\n`);
          }
        }
      };
      cloud.onEvent((boxId, e) => ctx.io.stdout.write(`event ${boxId} #${e.seq} ${e.type} ${e.id} ${JSON.stringify(e.data)}\n`));
      const timer = setInterval(show, 500);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
        if (opts.for !== undefined) setTimeout(resolve, Number(opts.for) * 1000);
      });
      clearInterval(timer);
      show();
      await cloud.close();
    });

  sim
    .command('boxes')
    .description('list the boxes seen on the broker with their state and health, then exit')
    .action(async () => {
      const cloud = await connect(ctx, sim.opts<SimOptions>());
      await new Promise((r) => setTimeout(r, 1_000));
      const boxes = cloud.boxes();
      if (boxes.length === 0) ctx.io.stdout.write('no boxes seen\n');
      for (const b of boxes) {
        ctx.io.stdout.write(`${b.boxId}  ${b.state?.online ? 'online' : 'offline'}  session ${b.state?.session ?? '-'}  health ${b.health?.health ?? '-'}  version ${b.state?.version ?? '-'}\n`);
      }
      await cloud.close();
    });

  sim
    .command('cmd')
    .argument('<name>', 'command name, e.g. ping, health.get, config.get, logs.tail')
    .argument('[args]', 'arguments as a JSON object', '{}')
    .option('--expires-in <seconds>', 'the command expires after this many seconds')
    .option('--id <id>', 'command id (default: random); the same id twice runs once')
    .option('--timeout <seconds>', 'how long to wait for the reply', '15')
    .description('send a command to the box and print its reply (exit 1 when the reply is an error)')
    .action(async (name: string, rawArgs: string, opts: { expiresIn?: string; id?: string; timeout: string }) => {
      let args: Record<string, unknown>;
      try {
        args = JSON.parse(rawArgs) as Record<string, unknown>;
      } catch {
        ctx.io.stderr.write('praxisbox: the arguments must be a JSON object, e.g. \'{"lines": 20}\'\n');
        ctx.exit(Exit.usage);
        return;
      }
      const cloud = await connect(ctx, sim.opts<SimOptions>());
      const boxId = await pickBox(cloud, sim.opts<SimOptions>().box);
      const reply = await cloud.command(boxId, name, args, {
        timeoutMs: Number(opts.timeout) * 1000,
        ...(opts.id ? { id: opts.id } : {}),
        ...(opts.expiresIn ? { expiresAt: new Date(Date.now() + Number(opts.expiresIn) * 1000).toISOString() } : {}),
      });
      ctx.io.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      ctx.exit(reply.status === 'ok' ? Exit.ok : Exit.failure);
      await cloud.close();
    });

  const pairingOp = async (op: 'approve' | 'deny' | 'list', code?: string, account?: { id?: string; name?: string }): Promise<void> => {
    const cloud = await connect(ctx, sim.opts<SimOptions>());
    let reply: ControlReply;
    try {
      reply = await cloud.control({ op, ...(code !== undefined ? { code } : {}), ...(account ? { account } : {}) });
    } finally {
      await cloud.close();
    }
    if (!reply.ok) {
      ctx.io.stderr.write(`praxisbox: ${reply.code}: ${reply.message}\n`);
      ctx.exit(Exit.failure);
      return;
    }
    const shown = op === 'list' ? { pairings: reply.pairings ?? [], unpaired: reply.unpaired ?? [] } : reply.pairing;
    ctx.io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  };

  sim
    .command('approve')
    .argument('<code>', 'the user code the box shows, e.g. BCDF-GHJK (case and dash do not matter)')
    .option('--account-id <id>', 'the practice account the box joins')
    .option('--account-name <name>', 'its name, shown on the box')
    .description('approve a pending pairing in the running cloud-sim (as a person would in the practice\'s cloud account); exit 1 with PAIRING_EXPIRED, PAIRING_DENIED, PAIRING_CODE_USED or PAIRING_UNKNOWN_CODE')
    .action(async (code: string, opts: { accountId?: string; accountName?: string }) =>
      pairingOp('approve', code, { ...(opts.accountId ? { id: opts.accountId } : {}), ...(opts.accountName ? { name: opts.accountName } : {}) }),
    );

  sim
    .command('deny')
    .argument('<code>', 'the user code the box shows')
    .description('deny a pending pairing in the running cloud-sim')
    .action(async (code: string) => pairingOp('deny', code));

  sim
    .command('pairings')
    .description('list the pairings the running cloud-sim knows (code, box, phase, expiry) and the boxes that unpaired, as JSON')
    .action(async () => pairingOp('list'));

  sim
    .command('config')
    .argument('<version>', 'desired version (must be newer than the applied one)')
    .argument('<config>', 'partial configuration as JSON, e.g. \'{"box":{"name":"Praxis Nord"}}\'')
    .description('push desired configuration (retained) and print the box\'s report')
    .action(async (version: string, rawConfig: string) => {
      const cloud = await connect(ctx, sim.opts<SimOptions>());
      const boxId = await pickBox(cloud, sim.opts<SimOptions>().box);
      const report = await cloud.pushConfig(boxId, Number(version), JSON.parse(rawConfig) as Record<string, unknown>);
      ctx.io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      ctx.exit(report.status === 'applied' ? Exit.ok : Exit.failure);
      await cloud.close();
    });
}

function positive(text: string, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

async function connect(ctx: CliContext, opts: SimOptions, pairing?: PairingServiceOptions): Promise<CloudSim> {
  const url = opts.url ?? `mqtt://127.0.0.1:${ctx.io.env['PRAXISBOX_MQTT_PORT'] ?? '1883'}`;
  return CloudSim.connect({
    url,
    ...(pairing ? { pairing } : {}),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.ca !== undefined ? { ca: await fs.readFile(opts.ca) } : {}),
    ...(opts.protocol === '4' || opts.protocol === '5' ? { protocolVersion: Number(opts.protocol) as 4 | 5 } : {}),
  });
}

/** The box named, or the only one whose retained state arrives within a second. */
async function pickBox(cloud: CloudSim, box: string | undefined): Promise<string> {
  if (box) return box;
  for (let i = 0; i < 20 && cloud.boxes().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const boxes = cloud.boxes().filter((b) => b.state);
  if (boxes.length === 1) return (boxes[0] as { boxId: string }).boxId;
  throw new Error(boxes.length === 0 ? 'no box seen on this broker (is the agent running? use --url)' : `several boxes seen (${boxes.map((b) => b.boxId).join(', ')}): choose one with --box`);
}
