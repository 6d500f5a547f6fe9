import type { Logger } from 'pino';
import { LogBudget } from './domain/log-budget.ts';
import type { Metrics } from './metrics.ts';

/**
 * Every refusal the gateway makes is counted by reason and logged once at info with who and
 * why, at most `perWindow` lines per reason a minute so a flood cannot fill the log (the next line
 * that gets through says how many were left out):
 * - `reject`: a packet, subscription or connection refused — `shouwang_gateway_rejects_total`;
 * - `login`: a CONNECT refused with a return code — `shouwang_gateway_auth_failures_total`;
 * - `clamped`: a CONNECT accepted with a value changed — `shouwang_gateway_clamped_total`.
 */
export type Recorder = (reason: string, fields: Record<string, unknown>) => void;

export interface Refusals {
  reject: Recorder;
  login: Recorder;
  clamped: Recorder;
}

export function createRefusals(options: { metrics: Metrics; log: Logger; now: () => number; perWindow?: number }): Refusals {
  const budget = new LogBudget({ perWindow: options.perWindow ?? 20, windowMs: 60_000, now: options.now });
  const recorder = (name: string, help: string, msg: string): Recorder => {
    const count = options.metrics.counter(name, help, ['reason']);
    return (reason, fields) => {
      count(reason);
      const take = budget.take(`${name}\u0000${reason}`);
      if (take) options.log.info({ reason, ...fields, ...(take.suppressed ? { suppressed: take.suppressed } : {}) }, msg);
    };
  };
  return {
    reject: recorder('shouwang_gateway_rejects_total', 'Refused packets, subscriptions and connections by reason', 'refused'),
    login: recorder('shouwang_gateway_auth_failures_total', 'Refused logins by reason', 'login refused'),
    clamped: recorder('shouwang_gateway_clamped_total', 'CONNECTs accepted with a value brought into range, by what', 'clamped'),
  };
}
