import type { CommissionItem } from '@shouwang/protocol';
import { judgeBattery, judgeCharge, judgeGps, judgeSignal } from '../domain/commissioning.ts';
import type { LinkReading } from '../drivers/link-reader.ts';
import type { GnssFix } from '../drivers/nmea.ts';
import type { MonitorReading } from '../drivers/power-monitor.ts';
import { within } from './within.ts';

/**
 * Runs the commissioning checklist on request (the `commission` command): GPS fix, signal,
 * battery, charge sources, a camera still, and a test upload through the real path to the
 * gateway (outbox → MQTT → journal fsync → PUBACK). Every check runs even when an earlier one
 * fails, each bounded in time, so the technician gets the whole list in one go.
 */
export interface CommissionDeps {
  fix: () => GnssFix | undefined;
  link: () => Promise<LinkReading>;
  monitors: () => Promise<Record<string, MonitorReading | undefined>>;
  soc: () => number | undefined;
  /** Takes a still; resolves with its size. Absent on a board without a camera. */
  snapshot?: () => Promise<number>;
  /** Sends a test message the normal way; resolves with the ms until the gateway acknowledged it. */
  testUpload: () => Promise<number>;
  timeoutMs?: number;
}

export async function runCommissioning(d: CommissionDeps): Promise<CommissionItem[]> {
  const limit = d.timeoutMs ?? 20_000;
  const items: CommissionItem[] = [judgeGps(d.fix())];
  items.push(await attempt('signal', async () => judgeSignal(await within(d.link(), limit)), 'modem'));
  const monitors = await within(d.monitors(), limit).catch(() => ({}) as Record<string, MonitorReading | undefined>);
  items.push(judgeBattery(monitors.battery, d.soc()));
  items.push(judgeCharge(monitors.solar, monitors.wind));
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
