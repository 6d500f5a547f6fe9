import { decodeMessage, type ErrorCode, filters, UPLINK_KINDS } from '@shouwang/protocol';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.ts';
import type { FleetState } from './fleet-state.ts';

const STATE_KINDS = UPLINK_KINDS.filter((k) => k !== 'alarm' && k !== 'digest');

/**
 * The fleet's ear on the gateway: one service session subscribed to every unit's uplink but alarms
 * and digests, decoding with the protocol. Bad messages are counted by code and dropped. Alarms and
 * digests reach live state from the alarm intake's session (`alarms/intake.ts`), which takes them
 * anyway: a storm's messages are delivered to and decoded by the fleet once, not twice.
 */

export interface MqttIngest {
  client: MqttClient;
  rejected: Map<ErrorCode, number>;
  received: number;
  /** Resolves once the first subscription is acknowledged. */
  subscribed: Promise<void>;
  close(): Promise<void>;
}

export function startMqttIngest(config: FleetConfig['mqtt'], state: FleetState, log: Logger): MqttIngest {
  const client = connect(config.url, {
    username: config.username,
    password: config.password,
    clientId: config.clientId,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
  });
  let markSubscribed: () => void = () => {};
  const ingest: MqttIngest = {
    client,
    rejected: new Map(),
    received: 0,
    subscribed: new Promise((resolve) => {
      markSubscribed = resolve;
    }),
    close: () => client.endAsync().then(() => undefined),
  };
  client.on('message', (topic, payload) => {
    ingest.received++;
    const m = decodeMessage(topic, payload);
    if (!m.ok) {
      ingest.rejected.set(m.error.code, (ingest.rejected.get(m.error.code) ?? 0) + 1);
      log.warn({ topic, error: m.error }, 'message dropped');
      return;
    }
    state.apply(m.value);
  });
  client.on('error', (err) => log.error({ err }, 'MQTT error'));
  client.on('connect', () => {
    log.info({ url: config.url }, 'connected to gateway');
    // Subscribe on every (re)connect: a clean session forgets its subscriptions.
    client.subscribe(
      STATE_KINDS.map((k) => filters.allUplink(k)),
      { qos: 1 },
      (err) => (err ? log.error({ err }, 'subscribe failed') : markSubscribed()),
    );
  });
  // Not awaited: the API serves (with what it knows) while the gateway is unreachable.
  return ingest;
}
