/**
 * What a refused login looks like from outside, by account kind: the time from CONNECT to
 * CONNACK for an unknown name, a unit and a service with a wrong secret, and one refused by the
 * login limit. Each attempt comes from its own loopback address, so only the last kind meets the
 * limit. The baseline is the unknown name, measured in the same run: a ratio of 1.00 means the
 * timing tells nothing about which accounts exist or what kind they are.
 */
import { connect } from 'node:net';
import { hashSecret } from '@shouwang/runtime/secrets';
import type { ServiceUnit } from '@shouwang/testkit';
import { connectPacket } from '../test/raw.ts';
import { DEPLOYED, type Row, startGatewayProcess } from './brokers.lib.ts';

const TRIES = 15;

function refusalMs(port: number, id: string, secret: string, from: string): Promise<{ ms: number; code: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: from }, () => {
      start = performance.now();
      s.write(connectPacket(id, id, secret));
    });
    let start = 0;
    s.once('data', (d: Buffer) => {
      resolve({ ms: performance.now() - start, code: d[3] as number });
      s.destroy();
    });
    s.once('error', reject);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** As deployed, and with the floor off (`auth.failedLoginDelayMs = 0`): what the floor hides. */
export async function bench(): Promise<Row[]> {
  const serviceHash = await hashSecret('svc-secret'); // the default (human) cost, as a service account is issued
  return [
    ...(await refusals(DEPLOYED, serviceHash, '')),
    ...(await refusals(
      { ...DEPLOYED, env: { ...DEPLOYED.env, SHOUWANG_GATEWAY_AUTH_FAILED_LOGIN_DELAY_MS: '0' } },
      serviceHash,
      ', no floor',
    )),
  ];
}

async function refusals(node: ServiceUnit, serviceHash: string, label: string): Promise<Row[]> {
  const gw = await startGatewayProcess(['unit-001'], node, serviceHash);
  try {
    const kinds = [
      ['unknown name', 'nobody-01'],
      ['unit, wrong secret', 'unit-001'],
      ['service, wrong secret', 'fleet'],
    ] as const;
    const times = new Map<string, number[]>();
    for (let i = 0; i < TRIES; i++) {
      for (const [kind, id] of kinds) {
        const r = await refusalMs(gw.port, id, 'wrong', `127.0.6.${i + 1}`);
        if (r.code !== 4) throw new Error(`${kind}: CONNACK ${r.code}, expected 4`);
        times.set(kind, [...(times.get(kind) ?? []), r.ms]);
      }
    }
    // Past the per-identity limit (5 failures from one address): refused without a check.
    const limited: number[] = [];
    for (let i = 0; i < 5 + TRIES; i++) {
      const r = await refusalMs(gw.port, 'unit-001', 'wrong', '127.0.6.200');
      if (i >= 5) limited.push(r.ms);
    }
    times.set('rate-limited', limited);
    const baseline = median(times.get('unknown name') as number[]);
    return [...times].map(([kind, ms]) => ({
      name: `failed login, ${kind}${label} (CONNECT to CONNACK, median of ${TRIES})`,
      value: median(ms),
      unit: 'ms',
      ...(kind === 'unknown name' ? {} : { baseline, ...(label ? {} : { target: '1.00× unknown name' }) }),
    }));
  } finally {
    await gw.stop();
  }
}

if (import.meta.main) {
  console.table(await bench());
  process.exit(0);
}
