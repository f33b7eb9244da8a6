// Child process for the update crash test: runs the real update runner (from the build) against an
// app dir and pauses at one named step, reporting `AT step` on stdout; the parent then kills it
// with SIGKILL. Modes: `apply` (tarball + signed manifest), `commit` and `rollback` (of the state
// in the data dir). Without a pause step it runs to the end and reports `DONE`.
import fs from 'node:fs/promises';
import { Writable } from 'node:stream';
import { UpdateRunner } from '../../dist/agent/update/update-runner.js';
import { ReleaseStore } from '../../dist/agent/update/release-store.js';
import { readUpdateState } from '../../dist/agent/update/update-state.js';
import { createLogger } from '../../dist/agent/core/logger.js';
import { systemClock } from '../../dist/agent/core/clock.js';

const [mode, appDir, dataDir, running, keyringFile, pauseAt, tarball, sigFile] = process.argv.slice(2);
const out = (line) => process.stdout.write(`${line}\n`);
const keyring = JSON.parse(await fs.readFile(keyringFile, 'utf8'));
const runner = new UpdateRunner({
  store: new ReleaseStore(appDir),
  dataDir,
  running,
  keyring: () => keyring,
  config: () => ({ commitWithinSeconds: 120, keepReleases: 2, allowDowngrade: false, maxDownloadBytes: 1 << 30, downloadTimeoutSeconds: 60 }),
  clock: systemClock,
  log: createLogger({ level: 'error', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
  fetch: globalThis.fetch,
  health: async () => 'ok',
  progress: () => undefined,
  step: async (name) => {
    if (name !== pauseAt) return;
    out(`AT ${name}`);
    await new Promise(() => setInterval(() => undefined, 1000));
  },
});
if (mode === 'apply') {
  const data = (await fs.readFile(tarball)).toString('base64');
  await runner.apply({ version: JSON.parse(await fs.readFile(sigFile, 'utf8')).version, sig: await fs.readFile(sigFile, 'utf8'), source: { data } });
} else if (mode === 'commit') {
  await runner.commit(await readUpdateState(dataDir));
} else {
  await runner.rollback(await readUpdateState(dataDir), 'not healthy');
}
out('DONE');
