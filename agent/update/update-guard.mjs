#!/usr/bin/env node
// The update guard: runs before every start of the agent (systemd ExecStartPre), copied to
// /opt/praxisbox/update-guard.mjs by each committed release. Plain, dependency-free JavaScript: it
// must work when the release it protects is broken. It never fails the start: whatever it finds, it
// leaves `current` pointing at the best complete release and exits 0.
//
// Rules (docs/updates.md, "State machine"):
// - state `switched`, current = new release, attempts 0 → count the start (attempts 1) and go on;
// - state `switched`, current = new release, attempts ≥ 1 → the new release already started once and
//   never committed (crash, kill, power loss, hang killed by the watchdog): back to the previous one,
//   state `rolled-back`, so the previous release reports `update.failed` when it runs;
// - state `switched`, current ≠ new release → the switch never happened: state `failed`;
// - state `rolled-back`, current = new release → finish the interrupted rollback;
// - current missing or incomplete → the previous release, else the newest complete one.
// State file fields are shared with agent/update/update-state.ts.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const VERSION = /^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})(-[0-9A-Za-z][0-9A-Za-z.]{0,30})?$/;

function log(message) {
  process.stdout.write(`praxisbox update guard: ${message}\n`);
}

function fsyncDir(dir) {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeDurable(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

function readState(file) {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof s.from === 'string' && typeof s.to === 'string' && typeof s.stage === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

function compare(a, b) {
  const ma = VERSION.exec(a);
  const mb = VERSION.exec(b);
  for (let i = 1; i <= 3; i++) if (Number(ma[i]) !== Number(mb[i])) return Number(ma[i]) - Number(mb[i]);
  if (ma[4] === mb[4]) return 0;
  if (ma[4] === undefined) return 1;
  if (mb[4] === undefined) return -1;
  return ma[4] < mb[4] ? -1 : 1;
}

export function guard({ appDir, dataDir, now = () => new Date() }) {
  const releases = path.join(appDir, 'releases');
  const current = path.join(appDir, 'current');
  const stateFile = path.join(dataDir, 'update', 'state.json');

  const complete = (v) => {
    if (typeof v !== 'string' || !VERSION.test(v)) return false;
    try {
      fs.accessSync(path.join(releases, v, 'bin', 'praxisbox.js'));
      return JSON.parse(fs.readFileSync(path.join(releases, v, 'package.json'), 'utf8')).version === v;
    } catch {
      return false;
    }
  };
  const target = () => {
    try {
      const resolved = path.resolve(appDir, fs.readlinkSync(current));
      return path.dirname(resolved) === releases ? path.basename(resolved) : undefined;
    } catch {
      return undefined;
    }
  };
  const switchTo = (v) => {
    const tmp = path.join(appDir, `.current.${crypto.randomBytes(6).toString('hex')}`);
    fs.symlinkSync(path.join('releases', v), tmp);
    fs.renameSync(tmp, current);
    fsyncDir(appDir);
  };
  const save = (s) => writeDurable(stateFile, `${JSON.stringify({ ...s, updatedAt: now().toISOString() }, null, 2)}\n`);

  // Stray temp symlinks of an interrupted switch.
  for (const name of fs.readdirSync(appDir)) if (name.startsWith('.current.')) fs.rmSync(path.join(appDir, name), { force: true });

  let state = readState(stateFile);
  const actions = [];
  if (state?.stage === 'switched') {
    if (target() === state.to) {
      if ((Number(state.attempts) || 0) >= 1) {
        state = { ...state, stage: 'rolled-back', reported: false, reason: 'the new release stopped before it was committed (crash, kill or power loss)' };
        save(state);
        actions.push(`release ${state.to} stopped before its commit: rolling back to ${state.from}`);
      } else {
        state = { ...state, attempts: (Number(state.attempts) || 0) + 1 };
        save(state);
        actions.push(`first start of release ${state.to}`);
      }
    } else {
      state = { ...state, stage: 'failed', reported: false, reason: 'the update was interrupted before the switch to the new release' };
      save(state);
      actions.push(`update to ${state.to} was interrupted before the switch`);
    }
  }
  if (state?.stage === 'rolled-back' && target() === state.to && complete(state.from)) switchTo(state.from);

  if (!complete(target())) {
    const broken = target();
    const names = fs.existsSync(releases) ? fs.readdirSync(releases).filter((n) => VERSION.test(n)) : [];
    const avoid = state && state.stage !== 'committed' ? state.to : undefined;
    const candidates = [state?.from, ...names.filter((n) => n !== avoid).sort((a, b) => compare(b, a)), avoid].filter((v, i, all) => v && all.indexOf(v) === i);
    const good = candidates.find((v) => v !== broken && complete(v));
    if (good) {
      switchTo(good);
      actions.push(`current (${broken ?? 'missing'}) is not a complete release: switched to ${good}`);
      if (state && state.to === broken && state.stage !== 'rolled-back' && state.stage !== 'failed') {
        state = { ...state, stage: 'rolled-back', reported: false, reason: `release ${broken} is incomplete` };
        save(state);
      }
    } else {
      actions.push(`current (${broken ?? 'missing'}) is not a complete release and no other complete release exists`);
    }
  }
  return { current: target(), stage: state?.stage, actions };
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  const env = process.env;
  const appDir = env.PRAXISBOX_APP_DIR || '/opt/praxisbox';
  const dataDir = env.PRAXISBOX_DATA_DIR || (env.STATE_DIRECTORY ? env.STATE_DIRECTORY.split(':')[0] : '/var/lib/praxisbox');
  try {
    const result = guard({ appDir, dataDir });
    for (const a of result.actions) log(a);
    log(`current → ${result.current ?? 'none'}`);
  } catch (err) {
    // A guard failure must not keep the box from starting what is there.
    log(`failed: ${err && err.code ? err.code : 'error'} (starting the current release unchanged)`);
  }
}
