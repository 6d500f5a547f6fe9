/**
 * Harness vocabulary: `openLane(dir, url, o)` is the agent's uplink with its bulk lane, as
 * device.ts wires them (outbox, bulk store, sender, uplink), in this process and without the rest
 * of the agent, dialling `url` as unit `o.unitId` (default hrb-001). `close()` stops it in order.
 * Used by the bulk-lane tests, the bulk bench and the end-to-end alarm-during-upload test.
 */
import { join } from 'node:path';
import { systemClock } from '@shouwang/hardware';
import type { LinkType, PowerState } from '@shouwang/protocol';
import { pino } from 'pino';
import { linkPolicy } from '../src/domain/upload-policy.ts';
import { BulkSender } from '../src/services/bulk-sender.ts';
import { BulkStore } from '../src/services/bulk-store.ts';
import { connectMqtt } from '../src/services/mqtt-connect.ts';
import { Outbox } from '../src/services/outbox.ts';
import { Uplink } from '../src/services/uplink.ts';

export interface Lane {
  outbox: Outbox;
  store: BulkStore;
  sender: BulkSender;
  uplink: Uplink;
  close(): Promise<void>;
}

export interface LaneOptions {
  unitId?: string;
  password?: string;
  link?: LinkType;
  powerState?: PowerState;
  /** Satellite bytes per UTC day. */
  budget?: number;
  quotaBytes?: number;
  /** The bulk store's clock (when files were enqueued). */
  now?: () => number;
  ackTimeoutMs?: number;
}

export function openLane(dir: string, url: string, o: LaneOptions = {}): Lane {
  const unitId = o.unitId ?? 'hrb-001';
  const outbox = Outbox.open(join(dir, 'outbox.db'), { quotaBytes: 10_000_000 });
  const store = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: o.quotaBytes ?? 100_000_000, now: o.now ?? Date.now });
  const log = pino({ level: 'silent' });
  const sender = new BulkSender({
    unitId,
    store,
    clock: systemClock,
    log,
    alarmWaitMs: 1000,
    liveMaxAgeMs: 5000,
    ackTimeoutMs: o.ackTimeoutMs ?? 60_000,
  });
  const uplink = new Uplink({
    unitId,
    url,
    password: o.password ?? 'pw',
    keepaliveS: 60,
    clock: systemClock,
    outbox,
    log,
    policy: () =>
      linkPolicy({
        link: o.link ?? 'lte',
        powerState: o.powerState ?? 'full',
        satelliteBudgetBytes: o.budget ?? 6800,
        compactOnCellular: true,
      }),
    presence: () => ({ board: 'pi4' }),
    backoff: { baseMs: 20, capMs: 200 },
    connect: connectMqtt,
    bulk: sender,
  });
  uplink.start();
  return {
    outbox,
    store,
    sender,
    uplink,
    async close() {
      await uplink.close();
      outbox.close();
      store.close();
    },
  };
}
