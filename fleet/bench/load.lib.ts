/**
 * Load generator for the ingest bench, run as a child process so its CPU and memory stay out of
 * the fleet's figures: an Aedes broker plus a few MQTT.js connections publishing on behalf of many
 * simulated units. Every payload's `ts` is the publish time, so the fleet side can measure lag.
 *
 * IPC: → { type: 'ready', url }; ← { type: 'announce' | 'steady' | 'burst', ... } → { type: 'done', sent }.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { encodeUplink, type Power, topics, UPLINK } from '@shouwang/protocol';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

export type LoadCommand =
  | { type: 'announce'; units: number }
  | { type: 'steady'; units: number; periodMs: number; durationMs: number }
  | { type: 'burst'; units: number; count: number };

const CONNECTIONS = 8;
const unitId = (i: number) => `sim-${String(i).padStart(5, '0')}`;

function power(i: number, seq: number): Uint8Array {
  const p: Power = {
    seq,
    ts: Date.now(),
    soc: 40 + (i % 50),
    batteryV: 12.8,
    solarW: (i * 7) % 60,
    windW: (i * 3) % 9,
    loadW: 4.5,
    state: 'scheduled-modem',
    timeToEmptyH: 20 + (i % 200),
  };
  // Half the fleet on satellite-style compact payloads, half on JSON, as a mixed deployment would be.
  return encodeUplink('power', p, i % 2 === 0 ? 'compact' : 'json');
}

async function main(): Promise<void> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, k) => mqtt.connectAsync(url, { clientId: `load-${k}`, reconnectPeriod: 0 })),
  );
  let seq = 0;
  const pub = (i: number, topic: string, body: Uint8Array, retain: boolean) =>
    (clients[i % CONNECTIONS] as MqttClient).publishAsync(topic, Buffer.from(body), { qos: UPLINK.power.qos, retain });

  const run = async (cmd: LoadCommand): Promise<number> => {
    if (cmd.type === 'announce') {
      for (let i = 0; i < cmd.units; i += 500) {
        const batch: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(cmd.units, i + 500); j++) {
          const id = unitId(j);
          batch.push(pub(j, topics.uplink(id, 'presence'), encodeUplink('presence', { state: 'online', ts: Date.now() }), true));
          batch.push(
            pub(
              j,
              topics.uplink(id, 'location'),
              encodeUplink('location', { seq: 1, ts: Date.now(), lat: 45.6 + (j % 100) / 250, lon: 126.4 + (j % 97) / 200, fix: '3d' }),
              true,
            ),
          );
          batch.push(pub(j, topics.uplink(id, 'power'), power(j, ++seq), true));
          batch.push(
            pub(j, topics.uplink(id, 'link'), encodeUplink('link', { seq: 1, ts: Date.now(), type: 'lte', rssiDbm: -85, bars: 3 }), true),
          );
        }
        await Promise.all(batch);
      }
      return cmd.units * 4;
    }
    if (cmd.type === 'steady') {
      // Each unit reports once per period, spread evenly over it in 50 ms ticks, as real units drift apart.
      const tickMs = 50;
      const perTick = (cmd.units * tickMs) / cmd.periodMs;
      const start = Date.now();
      let sent = 0;
      let next = 0;
      while (Date.now() - start < cmd.durationMs) {
        const due = Math.floor(((Date.now() - start) / tickMs + 1) * perTick);
        const batch: Promise<unknown>[] = [];
        for (; next < due; next++) {
          const i = next % cmd.units;
          batch.push(pub(i, topics.uplink(unitId(i), 'power'), power(i, ++seq), true));
        }
        sent += batch.length;
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, Math.max(0, start + Math.floor(next / perTick) * tickMs - Date.now())));
      }
      return sent;
    }
    // Burst: as fast as the broker takes it, in windows so QoS 1 in-flight state stays bounded.
    for (let n = 0; n < cmd.count; n += 1000) {
      const batch: Promise<unknown>[] = [];
      for (let j = n; j < Math.min(cmd.count, n + 1000); j++)
        batch.push(pub(j % cmd.units, topics.uplink(unitId(j % cmd.units), 'power'), power(j, ++seq), true));
      await Promise.all(batch);
    }
    return cmd.count;
  };

  process.on('message', (cmd: LoadCommand) => {
    run(cmd).then(
      (sent) => process.send?.({ type: 'done', sent }),
      (err: unknown) => process.send?.({ type: 'error', message: (err as Error).message }),
    );
  });
  process.on('disconnect', () => {
    for (const c of clients) c.end(true);
    broker.close();
    server.close();
  });
  process.send?.({ type: 'ready', url });
}

if (process.argv.includes('--load')) await main();
