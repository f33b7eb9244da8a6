import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';
import { STOP_TIMEOUT_MS } from '../../agent/cli/agent-commands.js';

const systemdDir = path.join(repoRoot, 'systemd');
const unitFile = path.join(systemdDir, 'praxisbox-agent.service');
const unitText = fs.readFileSync(unitFile, 'utf8');

/** key → every value it is given (systemd keys may repeat), comments and sections dropped. */
function settings(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    map.set(key, [...(map.get(key) ?? []), line.slice(eq + 1)]);
  }
  return map;
}
const unit = settings(unitText);
const one = (key: string): string | undefined => unit.get(key)?.at(-1);

function run(cmd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A throw-away root for `systemd-analyze verify --root`: the unit, stub executables for the
 * paths its Exec lines name (a CI machine has no /usr/local/bin/node) and empty stand-ins for the
 * targets every service depends on by default.
 */
function verifyRoot(text: string, withNode = true): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'praxisbox-unit-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/systemd/system/praxisbox-agent.service'), text);
  fs.mkdirSync(path.join(root, 'usr/lib/systemd/system'), { recursive: true });
  for (const target of ['sysinit.target', 'basic.target', 'shutdown.target']) {
    fs.writeFileSync(path.join(root, 'usr/lib/systemd/system', target), '[Unit]\nDescription=stand-in\n');
  }
  if (withNode) {
    fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/local/bin/node'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  return root;
}

function verify(root: string): { code: number | null; output: string } {
  const r = run('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', 'praxisbox-agent.service']);
  return { code: r.code, output: r.stdout + r.stderr };
}

t.test('systemd-analyze verify: no output at all', async (t) => {
  const r = verify(verifyRoot(unitText));
  t.equal(r.output, '', 'verify printed nothing (it exits 0 on unknown keys, so any output fails)');
  t.equal(r.code, 0);
});

t.test('the verify check fails on an unknown key, a bad value and a missing executable', async (t) => {
  const typo = verify(verifyRoot(unitText.replace('WatchdogSec=60s', 'WatchdogSecs=60s')));
  t.match(typo.output, /Unknown key 'WatchdogSecs'/);
  t.equal(typo.code, 0, 'systemd-analyze itself still exits 0: only the output shows it');
  const bad = verify(verifyRoot(unitText.replace('ProtectSystem=strict', 'ProtectSystem=stricter')));
  t.match(bad.output, /ProtectSystem|protect system/i);
  const noNode = verify(verifyRoot(unitText, false));
  t.match(noNode.output, /\/usr\/local\/bin\/node is not executable/);
});

function exposure(file: string): { code: number | null; score: number; output: string } {
  const r = run('systemd-analyze', ['security', '--offline=yes', '--threshold=20', '--no-pager', file]);
  const m = /Overall exposure level for [^:]+: (\d+(?:\.\d+)?)/.exec(r.stdout);
  return { code: r.code, score: m ? Number(m[1]) : Number.NaN, output: r.stdout + r.stderr };
}

t.test('systemd-analyze security --offline: exposure at most 2.0', async (t) => {
  const r = exposure(unitFile);
  t.equal(r.code, 0, 'passes --threshold=20');
  t.ok(r.score <= 2.0, `exposure ${r.score} ≤ 2.0`);
  t.comment(`measured exposure: ${r.score}`);
});

t.test('the security check fails for an unhardened unit', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'praxisbox-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bare = path.join(dir, 'praxisbox-agent.service');
  fs.writeFileSync(bare, '[Service]\nExecStart=/usr/local/bin/node /opt/praxisbox/current/bin/praxisbox.js start\n');
  const r = exposure(bare);
  t.ok(r.score > 2.0, `bare unit scores ${r.score}`);
  t.not(r.code, 0, 'and fails the threshold');
});

t.test('the unit follows the appliance layout contract', async (t) => {
  const layout = fs.readFileSync(path.join(repoRoot, 'docs', 'appliance-layout.md'), 'utf8');
  for (const key of ['ExecStartPre', 'ExecStart', 'Environment']) {
    const contract = [...layout.matchAll(new RegExp(`\`${key}=([^\`]+)\``, 'g'))].map((m) => m[1]);
    t.ok(contract.length > 0, `layout names ${key}`);
    for (const value of contract) t.ok(unit.get(key)?.includes(value as string), `${key}=${value}`);
  }
  t.equal(one('StateDirectory'), 'praxisbox');
  t.equal(one('RuntimeDirectory'), 'praxisbox');
  t.equal(one('User'), 'praxisbox');
  t.equal(one('Group'), 'praxisbox');
  const rw = (unit.get('ReadWritePaths') ?? []).join(' ').split(/\s+/).map((p) => p.replace(/^-/, ''));
  t.ok(rw.includes('/srv/praxisbox/gdt') && rw.includes('/opt/praxisbox'), 'GDT folders and the release tree are writable');
  t.ok(unit.get('Environment')?.includes('PRAXISBOX_GDT_ROOT=/srv/praxisbox/gdt'), 'the agent is told where the GDT folders are');
});

t.test('notify, watchdog, restart and stop settings match the agent', async (t) => {
  t.equal(one('Type'), 'notify');
  t.equal(one('NotifyAccess'), 'all', 'systemd-notify is a child process of the agent');
  t.match(one('WatchdogSec'), /^\d+s$/);
  t.equal(one('Restart'), 'on-failure');
  t.ok(one('StartLimitIntervalSec') && one('StartLimitBurst'), 'start limit set');
  const stopSec = Number(/^(\d+)s$/.exec(one('TimeoutStopSec') ?? '')?.[1]);
  t.ok(stopSec * 1000 > STOP_TIMEOUT_MS + 2_000, `TimeoutStopSec ${stopSec} s is above the agent's hard exit at ${(STOP_TIMEOUT_MS + 2_000) / 1000} s`);
  t.notOk(unit.has('MemoryDenyWriteExecute'), 'V8 needs W+X memory');
  t.equal(one('CapabilityBoundingSet'), '');
  t.equal(one('AmbientCapabilities'), '');
  t.equal(one('UMask'), '0077');
  t.equal(one('ProtectSystem'), 'strict');
  t.ok(unit.get('SystemCallFilter')?.includes('@system-service'));
  t.equal(one('LimitCORE'), '0', 'no core dumps of memory that may hold patient data');
});

t.test('every supplementary group exists on the box', async (t) => {
  const sysusers = fs.readFileSync(path.join(systemdDir, 'praxisbox.sysusers.conf'), 'utf8');
  const created = new Set([...sysusers.matchAll(/^[ug]\s+(\S+)/gm)].map((m) => m[1]));
  t.ok(created.has('praxisbox'), 'sysusers creates the service user');
  // Debian's fixed groups (base-passwd): present on every Debian system, the image included.
  const master = fs.readFileSync('/usr/share/base-passwd/group.master', 'utf8');
  const debian = new Set(master.split('\n').map((l) => l.split(':')[0]));
  const groups = (one('SupplementaryGroups') ?? '').split(/\s+/).filter(Boolean);
  t.ok(groups.length > 0);
  // A group that does not exist makes the service fail to start (216/GROUP).
  for (const g of groups) t.ok(created.has(g) || debian.has(g), `group ${g} exists`);
});

const isRoot = process.getuid?.() === 0;

t.test('sysusers and tmpfiles create the user and the writable folders', { skip: isRoot ? false : 'needs root to chown in a scratch root' }, async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'praxisbox-sysroot-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.copyFileSync('/usr/share/base-passwd/passwd.master', path.join(root, 'etc/passwd'));
  fs.copyFileSync('/usr/share/base-passwd/group.master', path.join(root, 'etc/group'));
  for (const [dir, file] of [
    ['usr/lib/sysusers.d', 'praxisbox.sysusers.conf'],
    ['usr/lib/tmpfiles.d', 'praxisbox.tmpfiles.conf'],
  ] as const) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.copyFileSync(path.join(systemdDir, file), path.join(root, dir, 'praxisbox.conf'));
  }
  const users = run('systemd-sysusers', [`--root=${root}`, 'praxisbox.conf']);
  t.equal(users.code, 0, users.stderr);
  const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
  const entry = passwd.split('\n').find((l) => l.startsWith('praxisbox:'))?.split(':');
  t.ok(entry, 'praxisbox user created');
  t.equal(entry?.[5], '/var/lib/praxisbox');
  t.equal(entry?.[6], '/usr/sbin/nologin');
  const uid = Number(entry?.[2]);
  t.ok(uid > 0 && uid < 1000, `system uid ${uid}`);
  t.match(fs.readFileSync(path.join(root, 'etc/group'), 'utf8'), /^gpio:x:\d+:/m);

  const files = run('systemd-tmpfiles', [`--root=${root}`, '--create', 'praxisbox.conf']);
  t.equal(files.code, 0, files.stderr);
  for (const [dir, mode] of [
    ['srv/praxisbox/gdt', 0o750],
    ['opt/praxisbox', 0o755],
    ['opt/praxisbox/releases', 0o755],
  ] as const) {
    const st = fs.statSync(path.join(root, dir));
    t.equal(st.uid, uid, `${dir} owned by praxisbox`);
    t.equal(st.mode & 0o777, mode, `${dir} mode ${mode.toString(8)}`);
  }
});
