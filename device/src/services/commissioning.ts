import type { CommissionItem } from '@shouwang/protocol';
import { type GpsDiagnosis, judgeBattery, judgeCharge, judgeGps, judgeSignal } from '../domain/commissioning.ts';
import type { LinkReading } from '../drivers/link-reader.ts';
import type { MonitorReading } from '../drivers/power-monitor.ts';
import { within } from './within.ts';

/**
 * Runs the commissioning checklist on request (the `commission` command): GPS fix, signal,
 * battery, charge sources, a camera still, and a test upload through the real path to the
 * gateway (outbox → MQTT → journal fsync → PUBACK). Every check runs even when an earlier one
 * fails, each bounded in time, so the technician gets the whole list in one go.
 */
export interface CommissionDeps {
  /** The GPS part as its port and driver see it; undefined without a GPS. */
  gpsPort: () => GpsDiagnosis | undefined;
  link: () => Promise<LinkReading>;
  monitors: () => Promise<Record<string, MonitorReading | undefined>>;
  /** Why the power monitors cannot be read at all (IO plugin missing or failed). */
  monitorsMissing?: string;
  soc: () => number | undefined;
  /** The sun's elevation over the unit now, degrees; undefined without a fix. */
  sunDeg?: () => number | undefined;
  /** Takes a still; resolves with its size. Absent on a board without a camera. */
  snapshot?: () => Promise<number>;
  /** Sends a test message the normal way; resolves with the ms until the gateway acknowledged it. */
  testUpload: () => Promise<number>;
  timeoutMs?: number;
}

export async function runCommissioning(d: CommissionDeps): Promise<CommissionItem[]> {
  const limit = d.timeoutMs ?? 20_000;
  const items: CommissionItem[] = [judgeGps(d.gpsPort())];
  items.push(
    await attempt(
      'signal',
      async () => {
        const l = await within(d.link(), limit);
        return judgeSignal({ ...l, ...(l.ports ? { port: l.ports.modem } : {}) });
      },
      'modem',
    ),
  );
  const monitors = await within(d.monitors(), limit).catch(() => ({}) as Record<string, MonitorReading | undefined>);
  const missing = d.monitorsMissing;
  if (missing) {
    const detail = `power monitors unavailable: ${missing}`.slice(0, 160);
    items.push({ check: 'battery', pass: false, detail }, { check: 'charge', pass: false, detail });
  } else {
    items.push(judgeBattery(monitors.battery, d.soc()));
    items.push(judgeCharge(monitors.solar, monitors.wind, d.sunDeg?.()));
  }
  const snapshot = d.snapshot;
  items.push(
    snapshot
      ? await attempt(
          'camera',
          async () => {
            const bytes = await within(snapshot(), limit);
            return { check: 'camera', pass: bytes > 0, detail: `still captured, ${Math.round(bytes / 1024)} KiB`, value: bytes };
          },
          'camera',
        )
      : { check: 'camera', pass: false, detail: 'no camera on this board' },
  );
  items.push(
    await attempt(
      'upload',
      async () => {
        const ms = await within(d.testUpload(), limit);
        return { check: 'upload', pass: true, detail: `test message stored by the gateway in ${ms} ms`, value: ms };
      },
      'uplink',
    ),
  );
  return items;
}

async function attempt(check: CommissionItem['check'], run: () => Promise<CommissionItem>, what: string): Promise<CommissionItem> {
  try {
    return await run();
  } catch (err) {
    return { check, pass: false, detail: `${what} failed: ${(err as Error).message}`.slice(0, 160) };
  }
}
