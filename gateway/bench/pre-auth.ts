/**
 * What connections that never finish logging in cost: 200 sockets each send the start of a CONNECT
 * announcing 200 kB and then stall, as a slow-loris client would. The broker's RSS growth is
 * measured against a bare Aedes in the same run, which buffers each CONNECT until its connect
 * timeout; the gateway cuts them from the header (`auth.maxConnectBytes`).
 */
import { connect, type Socket } from 'node:net';
import { type Row, type RunningBroker, rssKb, startBareAedes, startGatewayProcess } from './brokers.lib.ts';

const SOCKETS = 200;
const ANNOUNCED = 200_000;
const SENT = 150_000;

async function heldKb(b: RunningBroker): Promise<number> {
  await new Promise((r) => setTimeout(r, 500));
  const before = await rssKb(b.pid);
  const sockets: Socket[] = [];
  // Remaining Length 200,000 as a varint, then 150 kB of the body; the rest never comes.
  const header = Buffer.from([0x10, 0xc0, 0x9a, 0x0c]);
  const body = Buffer.alloc(SENT, 0x41);
  await Promise.all(
    Array.from(
      { length: SOCKETS },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(b.port, '127.0.0.1', () => {
            s.write(header);
            s.write(body, () => resolve());
          });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          sockets.push(s);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 2000));
  const after = await rssKb(b.pid);
  for (const s of sockets) s.destroy();
  return after - before;
}

export async function bench(): Promise<Row[]> {
  const bare = await startBareAedes();
  const aedesKb = await heldKb(bare).finally(() => bare.stop());
  const gw = await startGatewayProcess([]);
  const gatewayKb = await heldKb(gw).finally(() => gw.stop());
  return [
    { name: `memory held by ${SOCKETS} stalled ${ANNOUNCED / 1000} kB CONNECTs, bare aedes`, value: aedesKb / 1024, unit: 'MB' },
    {
      name: `memory held by ${SOCKETS} stalled ${ANNOUNCED / 1000} kB CONNECTs, gateway`,
      value: gatewayKb / 1024,
      unit: 'MB',
      baseline: aedesKb / 1024,
    },
  ];
}

if (import.meta.main) {
  console.table(await bench());
  process.exit(0);
}
