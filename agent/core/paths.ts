import path from 'node:path';

/** Every place the agent reads or writes, resolved once. Each one can be moved by an environment variable. */
export interface Paths {
  dataDir: string;
  runtimeDir: string;
  configFile: string;
  identityFile: string;
  secretFile: string;
  outboxDir: string;
  cloudDir: string;
  controlSocket: string;
  gdtRoot: string;
  spoolDir: string;
}

export interface PathEnv {
  env: Readonly<Record<string, string | undefined>>;
  uid: number;
  homeDir: string;
}

/** The variables that override paths, documented in README. */
export const PATH_VARIABLES = {
  dataDir: 'PRAXISBOX_DATA_DIR',
  runtimeDir: 'PRAXISBOX_RUNTIME_DIR',
  configFile: 'PRAXISBOX_CONFIG',
  gdtRoot: 'PRAXISBOX_GDT_ROOT',
  spoolDir: 'PRAXISBOX_SPOOL_DIR',
} as const;

/**
 * On a box the agent runs as a system service (root or the `praxisbox` user via systemd's
 * StateDirectory) and uses /var/lib/praxisbox; a developer's run uses a per-user directory.
 */
export function resolvePaths({ env, uid, homeDir }: PathEnv): Paths {
  const onBox = uid === 0 || env['STATE_DIRECTORY'] !== undefined;
  const dataDir = path.resolve(
    env[PATH_VARIABLES.dataDir] ??
      env['STATE_DIRECTORY']?.split(':')[0] ??
      (onBox ? '/var/lib/praxisbox' : path.join(env['XDG_DATA_HOME'] ?? path.join(homeDir, '.local', 'share'), 'praxisbox')),
  );
  const runtimeDir = path.resolve(
    env[PATH_VARIABLES.runtimeDir] ??
      env['RUNTIME_DIRECTORY']?.split(':')[0] ??
      (env[PATH_VARIABLES.dataDir] !== undefined
        ? path.join(dataDir, 'run')
        : onBox
          ? '/run/praxisbox'
          : env['XDG_RUNTIME_DIR'] !== undefined
            ? path.join(env['XDG_RUNTIME_DIR'], 'praxisbox')
            : path.join(dataDir, 'run')),
  );
  return {
    dataDir,
    runtimeDir,
    configFile: path.resolve(env[PATH_VARIABLES.configFile] ?? path.join(dataDir, 'config.json')),
    identityFile: path.join(dataDir, 'identity.json'),
    secretFile: path.join(dataDir, 'device-secret'),
    outboxDir: path.join(dataDir, 'outbox'),
    cloudDir: path.join(dataDir, 'cloud'),
    controlSocket: path.join(runtimeDir, 'control.sock'),
    gdtRoot: path.resolve(env[PATH_VARIABLES.gdtRoot] ?? path.join(dataDir, 'gdt')),
    spoolDir: path.resolve(env[PATH_VARIABLES.spoolDir] ?? path.join(dataDir, 'spool')),
  };
}
