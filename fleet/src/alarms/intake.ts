import { decodeMessage, type ErrorCode, filters } from '@shouwang/protocol';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { writeToStream } from 'mqtt-packet';
import type { Logger } from 'pino';
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

/** Handed to MQTT.js's `handleMessage` callback: it sends no PUBACK for it and reads the next packet. */
const ACK_LATER = new Error('acknowledged after its batch commits');

interface Flight {
  units: ReadonlySet<string>;
  /** Its reads and decisions are done: it writes (or commits) now. */
  writing: boolean;
  /** Committed: it waits only for the batches before it to be acknowledged. */
  stored: boolean;
  done: Promise<void>;
}

interface Received {
  packet: IPublishPacket;
  /** The connection it came on: a PUBACK goes back on that one or not at all. */
  stream: MqttClient['stream'];
  /** null: it failed to decode (counted, acknowledged, dropped) or carries no alarm. */
  message: IntakeMessage | null;
}

/**
 * Durable alarm intake: its own MQTT session, persistent (clean = false) under a per-instance
 * client id, so the broker queues the QoS 1 alarms and digests published while this instance is
 * down or reconnecting and delivers them when it returns.
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
 * reconnect the broker's redelivery is what gets acknowledged (the inbox takes it once). MQTT.js
 * acknowledges from `handleMessage`'s callback one message at a time, so the intake answers that
 * callback with `ACK_LATER` (no PUBACK, next packet) and writes the PUBACKs itself. A storage
 * failure is retried with capped backoff, the acknowledgements of later messages waiting behind it.
 */
export function startAlarmIntake(o: AlarmIntakeOptions, service: AlarmService, log: Logger): AlarmIntake {
  const client = connect(o.url, {
    username: o.username,
    password: o.password,
    clientId: o.clientId,
    clean: false,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
  });
  let closing = false;
  let markSubscribed: () => void = () => {};
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
    const receivedAt = o.clock.now();
    if (v.type === 'uplink' && v.kind === 'alarm') return { kind: 'alarm', unitId: v.unitId, payload: v.payload, receivedAt };
    if (v.type === 'uplink' && v.kind === 'digest') return { kind: 'digest', unitId: v.unitId, payload: v.payload, receivedAt };
    return null;
  };

  const acknowledge = (batch: readonly Received[]) => {
    for (const r of batch) {
      const id = r.packet.messageId;
      if (r.packet.qos === 0 || id === undefined) continue;
      // Not on a connection that has gone: the broker redelivers it on the new one.
      if (r.stream !== client.stream || !client.connected || r.stream.destroyed) continue;
      writeToStream({ cmd: 'puback', messageId: id }, r.stream);
    }
  };

  const store = async (batch: readonly Received[], writing: () => void): Promise<boolean> => {
    const messages = batch.flatMap((r) => (r.message ? [r.message] : []));
    for (let n = 0; ; n++) {
      if (closing) return false;
      try {
        if (messages.length > 0) await service.take(messages, writing);
        return true;
      } catch (err) {
        if (closing) return false;
        const wait = Math.min(2 ** n * RETRY_BASE_MS, RETRY_CAP_MS);
        log.error({ err, messages: messages.length, retryInMs: wait }, 'alarms not stored; retrying');
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
    f.done = (async () => {
      const stored = await store(batch, () => {
        f.writing = true;
        pump();
      });
      f.stored = true;
      pump();
      // Acknowledged in the order received: after every batch before it.
      await before;
      // Not acknowledged while closing: the broker redelivers them to the next session.
      if (!stored || closing) return;
      queue.splice(0, batch.length);
      assigned -= batch.length;
      acknowledge(batch);
      if (held && queue.length < QUEUE_MAX) {
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

  const intake: AlarmIntake = {
    client,
    rejected: new Map(),
    subscribed: new Promise((resolve) => {
      markSubscribed = resolve;
    }),
    get queued() {
      return queue.length;
    },
    async close() {
      closing = true;
      // Forced: a message being stored is not acknowledged, and the broker redelivers it.
      await client.endAsync(true);
      await Promise.all(flights.map((f) => f.done));
    },
  };

  client.handleMessage = (packet, done) => {
    queue.push({ packet, stream: client.stream, message: decode(packet) });
    const next = () => done(ACK_LATER);
    if (queue.length >= QUEUE_MAX) held = next;
    else next();
    pump();
  };
  client.on('error', (err) => log.error({ err }, 'alarm intake MQTT error'));
  client.on('connect', (ack) => {
    log.info({ clientId: o.clientId, sessionPresent: ack.sessionPresent }, 'alarm intake connected');
    if (ack.sessionPresent) return markSubscribed();
    client.subscribe([filters.allUplink('alarm'), filters.allUplink('digest')], { qos: 1 }, (err) =>
      err ? log.error({ err }, 'alarm intake subscribe failed') : markSubscribed(),
    );
  });
  return intake;
}
