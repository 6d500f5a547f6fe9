import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { writeToStream } from 'mqtt-packet';
import type { Logger } from 'pino';

/**
 * A durable MQTT session for an intake: persistent (clean = false) under a client id stable across
 * restarts, so the broker queues the QoS 1 messages published while this instance is down and
 * delivers them when it returns. A message is acknowledged (PUBACK) only once it is stored, so a
 * crash before the write means redelivery, never loss. Two ways to store:
 *
 * - `handle`: one message at a time; the PUBACK goes once it resolved (MQTT.js sends it when
 *   `handleMessage` calls back). A failed `handle` is retried with capped backoff while the session
 *   waits ([MQTT-4.6.0-2]: delivery stays ordered).
 * - `receive`: the caller keeps messages and stores them as it likes (in batches), calls `next` to
 *   read the next packet (or holds it back: TCP then holds the broker back) and `acknowledge` once
 *   the message is stored, in the order received ([MQTT-4.6.0-2]). MQTT.js acknowledges only from
 *   `handleMessage`'s callback, one message at a time, so the session answers that callback with
 *   `ACK_LATER` (no PUBACK, next packet) and writes the PUBACK itself — on the connection the
 *   message came on or not at all: after a reconnect, the broker's redelivery is what gets
 *   acknowledged.
 */
export type DurableSessionOptions = {
  url: string;
  username: string;
  password: string;
  clientId: string;
  filters: string[];
  log: Logger;
  /** Names the session in log lines. */
  what: string;
} & (
  | { handle: (topic: string, payload: Buffer) => Promise<void> }
  | { receive: (packet: IPublishPacket, next: () => void, acknowledge: () => void) => void }
);

export interface DurableSession {
  client: MqttClient;
  /** Resolves once the session is subscribed (or found subscribed). */
  subscribed: Promise<void>;
  close(): Promise<void>;
}

const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 10_000;

/** Handed to MQTT.js's `handleMessage` callback: it sends no PUBACK for it and reads the next packet. */
const ACK_LATER = new Error('acknowledged once stored');

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
  const acknowledge = (packet: IPublishPacket, stream: MqttClient['stream']) => {
    const id = packet.messageId;
    if (packet.qos === 0 || id === undefined) return;
    // Not on a connection that has gone: the broker redelivers it on the new one.
    if (stream !== client.stream || !client.connected || stream.destroyed) return;
    writeToStream({ cmd: 'puback', messageId: id }, stream);
  };
  if ('receive' in o) {
    const receive = o.receive;
    client.handleMessage = (packet, done) => {
      const stream = client.stream;
      receive(
        packet,
        () => done(ACK_LATER),
        () => acknowledge(packet, stream),
      );
    };
  } else {
    const handle = o.handle;
    client.handleMessage = (packet, done) => {
      const attempt = (n: number) => {
        handle(packet.topic, packet.payload as Buffer).then(
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
  }
  client.on('error', (err) => o.log.error({ err }, `${o.what}: MQTT error`));
  client.on('connect', (ack) => {
    o.log.info({ clientId: o.clientId, sessionPresent: ack.sessionPresent }, `${o.what} connected`);
    if (ack.sessionPresent) return markSubscribed();
    client.subscribe(o.filters, { qos: 1 }, (err) => (err ? o.log.error({ err }, `${o.what}: subscribe failed`) : markSubscribed()));
  });
  return session;
}
