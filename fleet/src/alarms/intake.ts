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
/** Past this many unacknowledged messages the session stops reading, and TCP holds the broker back. */
const QUEUE_MAX = 5000;

/** Handed to MQTT.js's `handleMessage` callback: it sends no PUBACK for it and reads the next packet. */
const ACK_LATER = new Error('acknowledged after its batch commits');

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
 * committing goes in the next transaction (at most `BATCH_MAX`). Each message is acknowledged
 * (PUBACK) only after its batch committed, in the order received ([MQTT-4.6.0-2]), and only on the
 * connection it came on — so a crash before the commit means redelivery, never loss, and after a
 * reconnect the broker's redelivery is what gets acknowledged (the inbox takes it once). MQTT.js
 * acknowledges from `handleMessage`'s callback one message at a time, so the intake answers that
 * callback with `ACK_LATER` (no PUBACK, next packet) and writes the PUBACKs itself. A storage
 * failure is retried with capped backoff, later messages waiting behind it in order.
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
  let draining: Promise<void> | null = null;

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

  const store = async (batch: readonly Received[]): Promise<boolean> => {
    const messages = batch.flatMap((r) => (r.message ? [r.message] : []));
    for (let n = 0; ; n++) {
      if (closing) return false;
      try {
        if (messages.length > 0) await service.take(messages);
        return true;
      } catch (err) {
        if (closing) return false;
        const wait = Math.min(2 ** n * RETRY_BASE_MS, RETRY_CAP_MS);
        log.error({ err, messages: messages.length, retryInMs: wait }, 'alarms not stored; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, BATCH_MAX);
      // Not acknowledged while closing: the broker redelivers them to the next session.
      if (!(await store(batch))) return;
      queue.splice(0, batch.length);
      acknowledge(batch);
      if (held && queue.length < QUEUE_MAX) {
        const release = held;
        held = null;
        release();
      }
    }
  };

  const kick = () => {
    draining ??= drain().finally(() => {
      draining = null;
      if (queue.length > 0 && !closing) kick();
    });
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
      await draining;
    },
  };

  client.handleMessage = (packet, done) => {
    queue.push({ packet, stream: client.stream, message: decode(packet) });
    const next = () => done(ACK_LATER);
    if (queue.length >= QUEUE_MAX) held = next;
    else next();
    kick();
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
