/**
 * How fast the simulator runs and how faithfully the shaper holds its rate.
 * - Physics: simulated days of weather + power per real second (1-minute steps, as the board
 *   integrates), against the environment model alone as the in-run baseline (what the pack costs).
 * - Shaper: bytes/s through an `nr` uplink to a loopback sink against the configured 10 MB/s
 *   (target), with a direct loopback connection as the baseline (the machine's own ceiling).
 */
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import type { BenchRow as Row } from '@shouwang/runtime';
import { Environment, SCENARIOS } from '../src/sim/environment.ts';
import { LINK_PROFILES, LinkShaper } from '../src/sim/link-shaper.ts';
import { DEFAULT_POWER, PowerModel } from '../src/sim/power.ts';

const HARBIN = { lat: 45.75, lon: 126.63 };
const DAYS = 60;

function daysPerSecond(withPower: boolean): number {
  const env = new Environment(SCENARIOS['harbin-winter'], HARBIN, 1);
  const power = new PowerModel(DEFAULT_POWER, 80);
  const start = Date.UTC(2026, 11, 1);
  const t0 = performance.now();
  for (let m = 0; m < DAYS * 1440; m++) {
    const w = env.at(start + m * 60_000);
    if (withPower) power.step(60, w, 6.85, 5.6);
  }
  return DAYS / ((performance.now() - t0) / 1000);
}

/** Sends `bytes` to a sink through `port` and returns bytes/s until the sink has them all. */
async function throughput(port: number, sinkDone: Promise<void>, bytes: number): Promise<number> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  const t0 = performance.now();
  const chunk = Buffer.alloc(16 * 1024, 0x55);
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!s.write(chunk)) await once(s, 'drain');
  await sinkDone;
  s.destroy();
  return bytes / ((performance.now() - t0) / 1000);
}

async function sink(bytes: number) {
  let got = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const server = createServer((s) =>
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= bytes) done();
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, finished, close: () => server.close() };
}

export async function bench(): Promise<Row[]> {
  const envOnly = daysPerSecond(false);
  const full = daysPerSecond(true);
  const bytes = 8 * 1024 * 1024;
  const direct = await sink(bytes);
  const directRate = await throughput(direct.port, direct.finished, bytes);
  direct.close();
  const shaped = await sink(bytes);
  const shaper = new LinkShaper({ host: '127.0.0.1', port: shaped.port }, LINK_PROFILES.nr);
  const path = await shaper.listen();
  const shapedRate = await throughput(path.port, shaped.finished, bytes);
  await shaper.close();
  shaped.close();
  return [
    { name: 'sim physics (weather + pack), 1-min steps', value: Math.round(full), unit: 'sim days/s', baseline: Math.round(envOnly) },
    {
      name: 'shaper nr (8 MiB)',
      value: Math.round(shapedRate / 1e3),
      unit: 'kB/s',
      baseline: Math.round(directRate / 1e3),
      target: `≈${LINK_PROFILES.nr.bytesPerSecond / 1e3} kB/s`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await bench());
