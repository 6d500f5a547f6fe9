import { type DecodedMessage, decodeMessage, type ErrorCode, filters } from '@shouwang/protocol';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { startDurableSession } from '../services/durable-session.ts';
import type { AlarmService, IntakeMessage } from './alarm-service.ts';

export interface AlarmIntakeOptions {
  url: string;
  username: string;
  password: string;
  /** One per fleet instance and stable across its restarts: the broker keeps the session under it. */
  clientId: string;
  clock: { now(): number };
  /**
   * Whether the store runs transactions side by side (PostgreSQL): then the next batch is read and
   * decided while the one before it writes and commits, on units it does not hold.
   */
  overlap: boolean;
  /**
   * Hears every alarm and digest as decoded, before it is stored: the fleet's live state takes them
   * from here, so they reach the fleet's process once (the state ingest does not subscribe to them).
   */
  observe?: (m: DecodedMessage) => void;
  /**
   * Runs once a batch committed and before its PUBACKs (retried until it succeeds, like the
   * batch; the next batch does not wait for it): the media intake takes each alarm's evidence head here, as durable as the alarm. It
   * must be idempotent: a redelivered message comes through again.
   */
  stored?: (messages: readonly IntakeMessage[]) => Promise<void>;
  /** Unacknowledged messages past which the session stops reading (default `QUEUE_MAX`): a test reaches the limit with a few hundred. */
  queueMax?: number;
}

export interface AlarmIntake {
  client: MqttClient;
  rejected: Map<ErrorCode, number>;
  /** Resolves once the session is subscribed (or found subscribed). */
  subscribed: Promise<void>;
  /** Messages received and not yet acknowledged. */
  readonly queued: number;
  close(): Promise<void>;
}

const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 10_000;
/** Messages stored per transaction at most: a storm goes in a few commits, not a thousand. */
const BATCH_MAX = 500;
/** Batches being stored at once, at most: one writing and committing, the next one being decided. */
const STORING_MAX = 2;
/** Past this many unacknowledged messages the session stops reading, and TCP holds the broker back. */
const QUEUE_MAX = 5000;

interface Flight {
  units: ReadonlySet<string>;
  /** Its reads and decisions are done: it writes (or commits) now. */
  writing: boolean;
  /** Committed: it waits only for the batches before it to be acknowledged. */
  stored: boolean;
  done: Promise<void>;
}

interface Received {
  /** Sends its PUBACK (on the connection it came on, if still up). */
  acknowledge: () => void;
  /** null: it failed to decode (counted, acknowledged, dropped) or carries no alarm. */
  message: IntakeMessage | null;
}

/**
 * Durable alarm intake: its own durable MQTT session (`durable-session.ts`, acknowledging once
 * stored) under a per-instance client id, so the broker queues the QoS 1 alarms and digests
 * published while this instance is down or reconnecting and delivers them when it returns.
 *
 * Messages are read as they come and stored in batches: whatever arrived while the last batch was
 * busy goes in the next transaction (at most `BATCH_MAX`). With `overlap`, the next batch starts
 * once the one before it is writing, so its reads and the engine's work run while the database
 * writes and commits the other; it stops before the first message of a unit still being stored,
 * so one unit's messages are still decided one batch after the other, in order.
 *
 * Each message is acknowledged (PUBACK) only after its batch committed, in the order received
 * ([MQTT-4.6.0-2]: a batch's PUBACKs wait for those of the batches before it), and only on the
 * connection it came on — so a crash before the commit means redelivery, never loss, and after a
 * reconnect the broker's redelivery is what gets acknowledged (the inbox takes it once). A storage
 * failure is retried with capped backoff, the acknowledgements of later messages waiting behind it.
 */
export function startAlarmIntake(o: AlarmIntakeOptions, service: AlarmService, log: Logger): AlarmIntake {
  let closing = false;
  const queueMax = o.queueMax ?? QUEUE_MAX;
  const queue: Received[] = [];
  let held: (() => void) | null = null;
  /** Batches being stored or waiting to be acknowledged, oldest first. */
  const flights: Flight[] = [];
  /** Messages at the head of `queue` that are in a batch being stored. */
  let assigned = 0;

  const decode = (packet: IPublishPacket): IntakeMessage | null => {
    const m = decodeMessage(packet.topic, packet.payload as Buffer);
    if (!m.ok) {
      intake.rejected.set(m.error.code, (intake.rejected.get(m.error.code) ?? 0) + 1);
      log.warn({ topic: packet.topic, error: m.error }, 'alarm message dropped');
      return null;
    }
    const v = m.value;
    o.observe?.(v);
    const receivedAt = o.clock.now();
    if (v.type === 'uplink' && v.kind === 'alarm') return { kind: 'alarm', unitId: v.unitId, payload: v.payload, receivedAt };
    if (v.type === 'uplink' && v.kind === 'digest') return { kind: 'digest', unitId: v.unitId, payload: v.payload, receivedAt };
    return null;
  };

  /** Runs `step` until it succeeds, with capped backoff; false if the intake closed first. */
  const retrying = async (step: () => Promise<unknown>, messages: number, failed: string): Promise<boolean> => {
    for (let n = 0; ; n++) {
      if (closing) return false;
      try {
        await step();
        return true;
      } catch (err) {
        if (closing) return false;
        const wait = Math.min(2 ** n * RETRY_BASE_MS, RETRY_CAP_MS);
        log.error({ err, messages, retryInMs: wait }, failed);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };

  const fly = (batch: Received[]) => {
    const before = flights.at(-1)?.done;
    const f: Flight = {
      units: new Set(batch.flatMap((r) => (r.message ? [r.message.unitId] : []))),
      writing: false,
      stored: false,
      done: Promise.resolve(),
    };
    assigned += batch.length;
    const messages = batch.flatMap((r) => (r.message ? [r.message] : []));
    f.done = (async () => {
      const writing = () => {
        f.writing = true;
        pump();
      };
      let stored =
        messages.length === 0 || (await retrying(() => service.take(messages, writing), messages.length, 'alarms not stored; retrying'));
      f.stored = true;
      pump();
      // After the commit, off the next batch's way, before the PUBACKs: a crash here redelivers.
      const handOn = o.stored;
      if (stored && handOn && messages.length > 0)
        stored = await retrying(() => handOn(messages), messages.length, 'stored alarms not handed on; retrying');
      // Acknowledged in the order received: after every batch before it.
      await before;
      // Not acknowledged while closing: the broker redelivers them to the next session.
      if (!stored || closing) return;
      queue.splice(0, batch.length);
      assigned -= batch.length;
      for (const r of batch) r.acknowledge();
      if (held && queue.length < queueMax) {
        const release = held;
        held = null;
        release();
      }
    })().finally(() => {
      flights.splice(flights.indexOf(f), 1);
      pump();
    });
    flights.push(f);
  };

  /**
   * Starts the next batch when there is room for one: what has arrived, up to the first message of
   * a unit still being stored. A batch committed and waiting for the acknowledgements before its
   * own holds no room (its units' rows are written).
   */
  const pump = () => {
    if (closing || assigned >= queue.length) return;
    const storing = flights.filter((f) => !f.stored);
    if (storing.length >= (o.overlap ? STORING_MAX : 1) || storing.some((f) => !f.writing)) return;
    const busy = (unitId: string) => storing.some((f) => f.units.has(unitId));
    const batch: Received[] = [];
    for (let i = assigned; i < queue.length && batch.length < BATCH_MAX; i++) {
      const r = queue[i] as Received;
      if (r.message && busy(r.message.unitId)) break;
      batch.push(r);
    }
    if (batch.length > 0) fly(batch);
  };

  const session = startDurableSession({
    url: o.url,
    username: o.username,
    password: o.password,
    clientId: o.clientId,
    filters: [filters.allUplink('alarm'), filters.allUplink('digest')],
    log,
    what: 'alarm intake',
    receive(packet, next, acknowledge) {
      queue.push({ acknowledge, message: decode(packet) });
      if (queue.length >= queueMax) held = next;
      else next();
      pump();
    },
  });
  const intake: AlarmIntake = {
    client: session.client,
    rejected: new Map(),
    subscribed: session.subscribed,
    get queued() {
      return queue.length;
    },
    async close() {
      closing = true;
      // Forced: a message being stored is not acknowledged, and the broker redelivers it.
      await session.close();
      await Promise.all(flights.map((f) => f.done));
    },
  };
  return intake;
}
