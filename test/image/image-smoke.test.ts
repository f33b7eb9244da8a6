import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

/**
 * Image smoke test: builds the smoke rootfs (arm64 bookworm through mmdebstrap in a private user
 * namespace with its own binfmt_misc), runs `praxisbox --version` in it under qemu-aarch64-static,
 * loads the cross-built PC/SC binding there, and checks the units with `systemd-analyze verify --root`.
 * Skipped (with the reason) only when the machine genuinely cannot: not root, kernel without
 * per-namespace binfmt_misc and no host registration, no user namespaces (build-image.sh exit 3).
 */
const script = path.join(repoRoot, 'image-build', 'build-image.sh');
const qemu = '/usr/bin/qemu-aarch64-static';
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const check = spawnSync(script, ['--check-host'], { encoding: 'utf8' });
const skip = check.status === 3 ? `this machine cannot build an arm64 rootfs: ${check.stderr.trim()}` : false;

// The build takes minutes (tap's per-file default in package.json is 240 s); a timeout or failure
// must not leave the build running: each child gets its own process group, killed at the end.
t.setTimeout(30 * 60_000);
const running = new Set<number>();
function killRunning(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
t.teardown(killRunning);
process.once('exit', killRunning);

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) running.add(child.pid);
    child.on('close', () => child.pid !== undefined && running.delete(child.pid));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err, ms: Date.now() - started }));
  });
}

/** A minimal agent unit and user while the real ones (systemd/) are not in this tree. */
async function unitDir(dir: string): Promise<{ dir: string; real: boolean }> {
  const real = path.join(repoRoot, 'systemd');
  if (existsSync(path.join(real, 'praxisbox-agent.service'))) return { dir: real, real: true };
  const tmp = path.join(dir, 'units');
  await fs.mkdir(tmp);
  await fs.writeFile(
    path.join(tmp, 'praxisbox-agent.service'),
    [
      '[Unit]',
      'Description=Praxisbox agent (minimal stand-in for the smoke test)',
      '[Service]',
      'User=praxisbox',
      'Environment=PRAXISBOX_BOX=1',
      'StateDirectory=praxisbox',
      'ExecStart=/usr/local/bin/node /opt/praxisbox/current/bin/praxisbox.js start',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  );
  await fs.writeFile(path.join(tmp, 'praxisbox.sysusers.conf'), 'u praxisbox - "Praxisbox agent" /var/lib/praxisbox\n');
  return { dir: tmp, real: false };
}

t.test('image smoke: arm64 rootfs, praxisbox --version under qemu, units verified', { skip }, async (t) => {
  t.equal(check.status, 0, `host check: ${check.stdout.trim()} ${check.stderr.trim()}`);
  const { dir, cleanup } = await tempDir('praxisbox-image-');
  t.teardown(cleanup);
  const units = await unitDir(dir);
  t.comment(units.real ? 'units from systemd/' : 'systemd/praxisbox-agent.service not in this tree: minimal stand-in unit');

  const build = await run(script, ['--smoke', '--skip-build', '--work', path.join(dir, 'work'), '--systemd-dir', units.dir]);
  t.equal(build.code, 0, 'build-image.sh --smoke exits 0', { stderr: build.err.slice(-3000) });
  if (build.code !== 0) return;
  const stages = [...build.out.matchAll(/^\[(\d)\/(\d)\] (.*) …$/gm)].map((m) => `${m[1]}/${m[2]} ${m[3]}`);
  t.same(
    stages.map((s) => s.slice(0, 3)),
    ['1/4', '2/4', '3/4', '4/4'],
    'progress line per stage',
  );
  const took = [...build.out.matchAll(/done in (\d+)s/g)].map((m) => Number(m[1]));
  t.equal(took.length, 4, 'every stage reports its time');
  for (const [i, s] of stages.entries()) t.comment(`stage ${s}: ${took[i]} s`);
  t.comment(`whole smoke build: ${Math.round(build.ms / 1000)} s`);

  const rootfs = path.join(dir, 'work', 'rootfs');
  const node = path.join(rootfs, 'usr/local/bin/node');
  const cli = path.join(rootfs, 'opt/praxisbox/current/bin/praxisbox.js');
  t.equal(await fs.readlink(path.join(rootfs, 'opt/praxisbox/current')), `releases/${version}`, 'current → releases/<version> (relative)');
  t.equal(readFileSync(node).readUInt16LE(18), 0xb7, 'node is an aarch64 ELF');

  const ver = await run(qemu, ['-L', rootfs, node, cli, '--version']);
  t.equal(ver.code, 0, 'praxisbox --version runs under qemu-aarch64-static', { stderr: ver.err });
  t.equal(ver.out.trim(), version, 'and prints the package version');
  t.comment(`praxisbox --version under qemu: ${ver.ms} ms`);

  const nodeVer = await run(qemu, ['-L', rootfs, node, '--version']);
  t.match(nodeVer.out.trim(), /^v20\.\d+\.\d+$/, 'Node 20 on the box');

  const natives = readFileSync(path.join(rootfs, 'opt/praxisbox/current/NATIVE-MODULES'), 'utf8');
  t.match(natives, /smartcard: cross-built/, 'smartcard was cross-built');
  const sc = path.join(rootfs, 'opt/praxisbox/current/node_modules/smartcard');
  const load = await run(qemu, ['-L', rootfs, node, '-e', `const s = require(${JSON.stringify(sc)}); console.log(typeof s.Context)`]);
  t.equal(load.out.trim(), 'function', 'the aarch64 PC/SC binding loads under qemu (against the rootfs libpcsclite)', { stderr: load.err });

  // Links as systemctl makes them: absolute inside the rootfs, so read them, do not follow them.
  const wants = path.join(rootfs, 'etc/systemd/system/multi-user.target.wants');
  t.match(await fs.readlink(path.join(wants, 'praxisbox-agent.service')), /^\/(usr\/)?lib\/systemd\/system\/praxisbox-agent\.service$/, 'agent unit enabled');
  t.match(await fs.readlink(path.join(wants, 'praxisbox-firstboot.service')), /^\/(usr\/)?lib\/systemd\/system\/praxisbox-firstboot\.service$/, 'first-boot unit enabled');
  t.match(readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8'), /^praxisbox:/m, 'service user exists');
  t.match(readFileSync(path.join(rootfs, 'etc/group'), 'utf8'), /^gpio:[^:]*:\d+:.*praxisbox/m, 'praxisbox is in group gpio');
  t.match(readFileSync(path.join(rootfs, 'etc/systemd/journald.conf.d/praxisbox.conf'), 'utf8'), /^Storage=volatile$/m, 'journal in RAM');
  t.equal(readFileSync(path.join(rootfs, 'etc/machine-id'), 'utf8'), '', 'machine-id empty until the first boot');

  const unitNames = ['praxisbox-agent.service', 'praxisbox-firstboot.service'];
  for (const f of await fs.readdir(units.dir)) if (f.endsWith('.service') && !unitNames.includes(f)) unitNames.push(f);
  const verify = await run('systemd-analyze', ['verify', `--root=${rootfs}`, ...unitNames], { cwd: rootfs });
  t.equal(verify.code, 0, 'systemd-analyze verify --root exits 0');
  t.equal(verify.out + verify.err, '', `systemd-analyze verify --root prints nothing (${unitNames.join(', ')})`);

  // The same check must be able to fail: a unit whose ExecStart is not in the rootfs.
  const broken = path.join(rootfs, 'etc/systemd/system/praxisbox-broken-smoke.service');
  await fs.writeFile(broken, '[Service]\nExecStart=/usr/local/bin/not-in-the-image\n');
  const bad = await run('systemd-analyze', ['verify', `--root=${rootfs}`, 'praxisbox-broken-smoke.service'], { cwd: rootfs });
  t.match(bad.out + bad.err, /not-in-the-image/, 'verify --root reports a missing executable in the rootfs');
});
