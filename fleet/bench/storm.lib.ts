/**
 * The alarm storm's broker and units, in a process of their own (as the gateway is in
 * production), so the fleet under test does not share its event loop with the broker's and the
 * publisher's work: an Aedes broker, and one MQTT.js connection raising an intrusion for each of
 * `units` units at once, each alarm's `ts` its publish time and its evidence head a unit's.
 *
 * IPC: → { type: 'ready', url }; ← { type: 'storm', prefix, units } → { type: 'done', t0, raisedAt: [unitId, ts][] }.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { encodeUplink, topics } from '@shouwang/protocol';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

export type StormCommand = { type: 'storm'; prefix: string; units: number };
export type StormDone = { type: 'done'; t0: number; raisedAt: [string, number][] };

async function storm(url: string, prefix: string, units: number): Promise<StormDone> {
  const c = await mqtt.connectAsync(url, { clientId: `storm-${prefix}`, reconnectPeriod: 0 });
  const t0 = Date.now();
  const raisedAt: [string, number][] = [];
  await Promise.all(
    Array.from({ length: units }, (_, i) => {
      const unitId = `${prefix}-${String(i).padStart(4, '0')}`;
      const alarm = {
        seq: 1,
        ts: Date.now(),
        id: 'motion-1',
        kind: 'motion',
        severity: 'major',
        state: 'raised',
        lat: 45.75,
        lon: 126.55,
        // The head of the alarm's evidence chain, as a unit with video raises it.
        evidence: createHash('sha256').update(unitId).digest('hex'),
      } as const;
      raisedAt.push([unitId, alarm.ts]);
      return c.publishAsync(topics.uplink(unitId, 'alarm'), Buffer.from(encodeUplink('alarm', alarm, 'json')), { qos: 1 });
    }),
  );
  await c.endAsync();
  return { type: 'done', t0, raisedAt };
}

async function main(): Promise<void> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.on('message', (cmd: StormCommand) => {
    storm(url, cmd.prefix, cmd.units).then(
      (done) => process.send?.(done),
      (err: unknown) => process.send?.({ type: 'error', message: (err as Error).message }),
    );
  });
  process.on('disconnect', () => {
    broker.close();
    server.close();
  });
  process.send?.({ type: 'ready', url });
}

if (process.argv.includes('--storm')) await main();
