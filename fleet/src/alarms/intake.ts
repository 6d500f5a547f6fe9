import { decodeMessage, type ErrorCode, filters } from '@shouwang/protocol';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { AlarmService } from './alarm-service.ts';

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
  close(): Promise<void>;
}

const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 10_000;

/**
 * Durable alarm intake: its own MQTT session, persistent (clean = false) under a per-instance
 * client id, so the broker queues the QoS 1 alarms and digests published while this instance is
 * down or reconnecting and delivers them when it returns. A message is acknowledged (PUBACK) only
 * after its transaction committed — MQTT.js sends the PUBACK when `handleMessage` calls back — so a
 * crash before the commit means redelivery, never loss. A storage failure is retried with capped
 * backoff while the session waits ([MQTT-4.6.0-2]: ordered delivery per subscription is kept).
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
  const intake: AlarmIntake = {
    client,
    rejected: new Map(),
    subscribed: new Promise((resolve) => {
      markSubscribed = resolve;
    }),
    async close() {
      closing = true;
      // Forced: a message being stored is not acknowledged, and the broker redelivers it.
      await client.endAsync(true);
    },
  };
  const process = async (topic: string, payload: Buffer): Promise<void> => {
    const m = decodeMessage(topic, payload);
    if (!m.ok) {
      intake.rejected.set(m.error.code, (intake.rejected.get(m.error.code) ?? 0) + 1);
      log.warn({ topic, error: m.error }, 'alarm message dropped');
      return;
    }
    const v = m.value;
    const at = o.clock.now();
    if (v.type === 'uplink' && v.kind === 'alarm') await service.takeAlarm(v.unitId, v.payload, at);
    else if (v.type === 'uplink' && v.kind === 'digest') await service.takeDigest(v.unitId, v.payload, at);
  };
  client.handleMessage = (packet, done) => {
    const attempt = (n: number) => {
      process(packet.topic, packet.payload as Buffer).then(
        () => done(),
        (err: unknown) => {
          // Not acknowledged while closing: the broker redelivers it to the next session.
          if (closing) return;
          const wait = Math.min(2 ** n * RETRY_BASE_MS, RETRY_CAP_MS);
          log.error({ err, topic: packet.topic, retryInMs: wait }, 'alarm not stored; retrying');
          setTimeout(() => attempt(n + 1), wait);
        },
      );
    };
    attempt(0);
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
