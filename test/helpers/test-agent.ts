import fs from 'node:fs/promises';
import { Writable } from 'node:stream';
import { Agent } from '../../agent/main.js';
import { resolvePaths } from '../../agent/core/paths.js';
import { tempDir } from './fixtures.js';

export interface TestAgent {
  agent: Agent;
  dir: string;
  logText: () => string;
  boxId: string;
  stop: () => Promise<void>;
}

export interface TestAgentOptions {
  /** Written as the configuration file before the agent is created. */
  config?: unknown;
  /** This data directory instead of a fresh temp one: the caller owns it (a restart on the same box). */
  dir?: string;
  logLevel?: string;
  /** Runs after the agent is built and before it starts (listeners that must see start-up events). */
  beforeStart?: (agent: Agent) => void;
}

/** A whole agent in this process on a temp data dir, its log captured; the embedded broker and the web UI on free ports. */
export async function startTestAgent(env: Record<string, string> = {}, opts: TestAgentOptions = {}): Promise<TestAgent> {
  const { dir, cleanup } = opts.dir !== undefined ? { dir: opts.dir, cleanup: async () => undefined } : await tempDir('praxisbox-agent-');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const paths = resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir });
  if (opts.config !== undefined) await fs.writeFile(paths.configFile, JSON.stringify(opts.config));
  const agent = await Agent.create({
    paths,
    version: 'test',
    logDestination: sink,
    logLevel: opts.logLevel ?? 'debug',
    env: { PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0', PRAXISBOX_MODULES_DISABLED: 'cards', ...env },
  });
  opts.beforeStart?.(agent);
  await agent.start();
  return {
    agent,
    dir,
    logText: () => lines.join(''),
    boxId: agent.identity.identity().boxId,
    stop: async () => {
      await agent.stop();
      await cleanup();
    },
  };
}

/** Polls `check` until it returns true, or fails after `timeoutMs` with `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
