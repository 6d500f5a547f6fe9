/**
 * A reconnect storm: 10,000 units connect, the gateway restarts, and all 10,000 come back at
 * once. Clients are raw sockets with hand-made CONNECT packets (an MQTT.js client each would
 * measure the load generator, not the gateway). A refused or dropped unit retries after a
 * random 0–2 s, as the agent's capped backoff does. The units come from 50 addresses (200 behind
 * each, as behind carrier NATs): the gateway caps connections not yet logged in per address.
 */
import { connect, type Socket } from 'node:net';
import type { ServiceUnit } from '@shouwang/testkit';
import { connectPacket } from '../test/raw.ts';
import { DEPLOYED, NODE_DEFAULTS, type Row, rssKb, startGatewayProcess } from './brokers.lib.ts';

const UNITS = Number(process.env.STORM_UNITS ?? 10_000);
const ids = Array.from({ length: UNITS }, (_, i) => `storm-${String(i).padStart(5, '0')}`);
const sourceOf = (id: string) => `127.0.5.${(Number(id.slice(6)) % 50) + 1}`;

/** Connects every unit; resolves with the time until all have a CONNACK 0, and the retries needed. */
async function herd(port: number, sockets: Socket[], deadlineMs: number): Promise<{ seconds: number; retries: number; failed: number }> {
  const start = performance.now();
  let retries = 0;
  const one = (id: string) =>
    new Promise<boolean>((resolve) => {
      const attempt = () => {
        if (performance.now() - start > deadlineMs) return resolve(false);
        const s = connect({ port, host: '127.0.0.1', localAddress: sourceOf(id) });
        let done = false;
        const retry = () => {
          if (done) return;
          done = true;
          s.destroy();
          retries++;
          setTimeout(attempt, Math.random() * 2000);
        };
        s.once('error', retry);
        s.once('close', retry);
        s.once('connect', () => s.write(connectPacket(id, id, 'bench-secret')));
        s.once('data', (d: Buffer) => {
          if (d[0] === 0x20 && d[3] === 0) {
            done = true;
            s.removeAllListeners('close');
            s.on('close', () => {});
            sockets.push(s);
            resolve(true);
          } else retry();
        });
      };
      attempt();
    });
  const results = await Promise.all(ids.map(one));
  return { seconds: (performance.now() - start) / 1000, retries, failed: results.filter((ok) => !ok).length };
}

/** As deployed (deploy/shouwang-gateway.service), and on Node's default heap sizing for comparison. */
export async function bench(): Promise<Row[]> {
  return [...(await storm(DEPLOYED, '')), ...(await storm(NODE_DEFAULTS, " (Node's default heap sizing)"))];
}

async function storm(node: ServiceUnit, label: string): Promise<Row[]> {
  const gw = await startGatewayProcess(ids, node);
  const sockets: Socket[] = [];
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = await rssKb(gw.pid);
    const first = await herd(gw.port, sockets, 120_000);
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = await rssKb(gw.pid);
    const perConnKb = (loaded - idle) / Math.max(1, sockets.length);

    // Restart: every unit loses its connection at the same moment and comes straight back.
    const restarted = await gw.restart();
    for (const s of sockets.splice(0)) s.destroy();
    const again = await herd(restarted.port, sockets, 120_000);
    for (const s of sockets.splice(0)) s.destroy();
    // Targets apply to the gateway as deployed; the other run is the comparison.
    const target = (t: string) => (label ? {} : { target: t });
    return [
      { name: `first connect of ${UNITS} units${label}`, value: first.seconds, unit: 's' },
      { name: `gateway memory per unit connection${label}`, value: perConnKb, unit: 'KB', ...target('≤ 20 KB') },
      { name: `reconnect storm after restart: all ${UNITS} back${label}`, value: again.seconds, unit: 's', ...target('≤ 30 s') },
      { name: `storm: units never back (lock-outs)${label}`, value: again.failed, unit: 'units', ...target('0') },
      { name: `storm: retries needed${label}`, value: again.retries, unit: 'attempts' },
    ];
  } finally {
    for (const s of sockets) s.destroy();
    await gw.stop();
  }
}

if (import.meta.main) {
  console.table(await bench());
  process.exit(0);
}
