import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

/**
 * A durable MQTT session for an intake: persistent (clean = false) under a client id stable across
 * restarts, so the broker queues the QoS 1 messages published while this instance is down and
 * delivers them when it returns. A message is acknowledged (PUBACK) only once `handle` resolved —
 * MQTT.js sends the PUBACK when `handleMessage` calls back, one message at a time — so a crash
 * before the write means redelivery, never loss. A failed `handle` is retried with capped backoff
 * while the session waits ([MQTT-4.6.0-2]: delivery stays ordered).
 */
export interface DurableSessionOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  filters: string[];
  handle: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
  /** Names the session in log lines. */
  what: string;
}

export interface DurableSession {
  client: MqttClient;
  /** Resolves once the session is subscribed (or found subscribed). */
  subscribed: Promise<void>;
  close(): Promise<void>;
}

const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 10_000;

export function startDurableSession(o: DurableSessionOptions): DurableSession {
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
  const session: DurableSession = {
    client,
    subscribed: new Promise((resolve) => {
      markSubscribed = resolve;
    }),
    async close() {
      closing = true;
      // Forced: a message being handled is not acknowledged, and the broker redelivers it.
      await client.endAsync(true);
    },
  };
  client.handleMessage = (packet, done) => {
    const attempt = (n: number) => {
      o.handle(packet.topic, packet.payload as Buffer).then(
        () => done(),
        (err: unknown) => {
          if (closing) return;
          const wait = Math.min(2 ** n * RETRY_BASE_MS, RETRY_CAP_MS);
          o.log.error({ err, topic: packet.topic, retryInMs: wait }, `${o.what}: message not stored; retrying`);
          setTimeout(() => attempt(n + 1), wait);
        },
      );
    };
    attempt(0);
  };
  client.on('error', (err) => o.log.error({ err }, `${o.what}: MQTT error`));
  client.on('connect', (ack) => {
    o.log.info({ clientId: o.clientId, sessionPresent: ack.sessionPresent }, `${o.what} connected`);
    if (ack.sessionPresent) return markSubscribed();
    client.subscribe(o.filters, { qos: 1 }, (err) => (err ? o.log.error({ err }, `${o.what}: subscribe failed`) : markSubscribed()));
  });
  return session;
}
