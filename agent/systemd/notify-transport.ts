import { execFile } from 'node:child_process';

/** The notification fields the agent sends (sd_notify(3)). */
export interface NotifyMessage {
  ready?: boolean;
  watchdog?: boolean;
  stopping?: boolean;
  /** MAINPID=: the agent's own pid, sent with READY=1. */
  mainPid?: number;
  status?: string;
}

/** Delivers one notification; rejects when it could not be delivered. */
export interface NotifyTransport {
  send(message: NotifyMessage): Promise<void>;
}

/** The `systemd-notify` arguments for one message (VARIABLE=VALUE form, one datagram). */
export function notifyArgs(message: NotifyMessage): string[] {
  const args: string[] = [];
  if (message.ready) args.push('--ready');
  // --pid also makes systemd-notify try to send with the agent's pid as sender credentials (it
  // falls back to its own without CAP_SYS_ADMIN); MAINPID= tells systemd who the main process is.
  if (message.mainPid !== undefined) args.push(`--pid=${message.mainPid}`);
  if (message.watchdog) args.push('WATCHDOG=1');
  if (message.stopping) args.push('STOPPING=1');
  if (message.status !== undefined) args.push(`STATUS=${message.status.replace(/[\r\n]+/g, ' ')}`);
  return args;
}

export interface SystemdNotifyToolDeps {
  /** NOTIFY_SOCKET, passed on explicitly: the tool gets no other part of the agent's environment. */
  socket: string;
  /** The tool; `systemd-notify` from PATH by default. */
  command?: string;
  path?: string;
  timeoutMs?: number;
}

/**
 * Sends through the `systemd-notify` tool instead of a native sd_notify binding (decision D-systemd-1).
 * The tool runs without --no-block: it then waits (up to 5 s) until systemd has read the message
 * (BARRIER=1), so it is still alive when systemd looks up which unit the sender belongs to — a
 * sender that already exited is dropped, which is the classic systemd-notify race.
 */
export class SystemdNotifyTool implements NotifyTransport {
  readonly #deps: SystemdNotifyToolDeps;

  constructor(deps: SystemdNotifyToolDeps) {
    this.#deps = deps;
  }

  send(message: NotifyMessage): Promise<void> {
    const env: Record<string, string> = { NOTIFY_SOCKET: this.#deps.socket };
    if (this.#deps.path !== undefined) env['PATH'] = this.#deps.path;
    return new Promise((resolve, reject) => {
      execFile(this.#deps.command ?? 'systemd-notify', notifyArgs(message), { env, timeout: this.#deps.timeoutMs ?? 6_000 }, (err, _stdout, stderr) => {
        if (err) {
          const detail = stderr.trim().split('\n')[0] ?? '';
          reject(new Error(`systemd-notify failed: ${err.message.split('\n')[0] ?? ''}${detail ? ` (${detail})` : ''}`));
          return;
        }
        resolve();
      });
    });
  }
}
