import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * systemd's sd_notify protocol (sd_notify(3)) without a native addon. The protocol is a datagram on
 * the AF_UNIX socket in $NOTIFY_SOCKET, and Node has no unixgram sockets; rather than a compiled
 * addon (a build step on the unit, a prebuild per arch) we run systemd's own `systemd-notify`,
 * which ships with every systemd. `--pid=<our pid>` makes systemd credit the message to the main
 * process; the unit sets NotifyAccess=all because the sender is, strictly, a child. One fork every
 * WatchdogSec/2 costs nothing next to a 60 s watchdog.
 *
 * The watchdog is fed only while `healthy()` says the agent is making progress, so a wedged loop
 * (not just a dead process) gets restarted.
 */
export interface Notifier {
  ready(): void;
  stopping(): void;
  close(): void;
}

export function createNotifier(log: Logger, healthy: () => boolean, env: NodeJS.ProcessEnv = process.env): Notifier {
  if (!env.NOTIFY_SOCKET) return { ready() {}, stopping() {}, close() {} };
  const send = (state: string) =>
    execFile('systemd-notify', [`--pid=${process.pid}`, state], (err) => {
      if (err) log.warn({ err: err.message, state }, 'systemd-notify failed');
    });
  const usec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID === undefined ? process.pid : Number(env.WATCHDOG_PID);
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(usec) && usec > 0 && watchdogPid === process.pid) {
    // Wall-clock timer on purpose: systemd's watchdog runs on real time, not the unit's (simulated) clock.
    timer = setInterval(() => {
      if (healthy()) send('WATCHDOG=1');
      else log.error('agent not making progress; withholding the watchdog ping so systemd restarts it');
    }, usec / 2000);
    timer.unref();
  }
  return {
    ready: () => send('READY=1'),
    stopping: () => send('STOPPING=1'),
    close: () => {
      if (timer) clearInterval(timer);
    },
  };
}
