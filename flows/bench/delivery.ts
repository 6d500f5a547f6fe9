/**
 * Tickets to the city under an alarm storm: 1,000 units raise an intrusion at once through a real
 * broker; the real fleet (its own process, SQLite) opens a ticket per alarm into its outbox; Node-RED
 * (flows/src/server.ts with the shipped default flows) leases them and delivers each to a recording
 * 12345 webhook and Open311 endpoint on loopback.
 *
 * Rows: alarm raised on the unit (its `ts`) → work order received by the 12345 endpoint, p50 and
 * p99, against the fleet's own ticket creation (alarm `ts` → ticket `openedAt`) in the same run;
 * outside deliveries per second (12345 + Open311), against tickets opened per second.
 *
 * Node-RED runs the shipped flows with their defaults (a lease waits at the fleet until events
 * commit) but 500 events a lease. The fleet's ticket list is read every 0.1 s to see when each
 * ticket became readable, and no more once every ticket was seen: it would only load the fleet.
 *
 * Runnable alone: `./dev node flows/bench/delivery.ts`.
 */
import { readFileSync } from 'node:fs';
import { type Alarm, encodeUplink, topics } from '@shouwang/protocol';
import type { BenchRow } from '@shouwang/runtime';
import mqtt from 'mqtt';
import { startCityPlatform } from '../test/city-platform.ts';
import { ADMIN, startBroker, startFleet, startNodeRed, waitFor } from '../test/support.ts';

const UNITS = 1000;

/** User + system CPU a process has used (Linux: /proc/<pid>/stat, fields 14 and 15 in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

export async function bench(): Promise<BenchRow[]> {
  const teardown: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => void teardown.unshift(fn) };
  try {
    const mqttUrl = await startBroker(t);
    const fleet = await startFleet(t, mqttUrl);
    const city = await startCityPlatform(t);
    const nodeRed = await startNodeRed(t, {
      SHOUWANG_FLOWS_FLEET_URL: fleet.base,
      SHOUWANG_FLOWS_FLEET_TOKEN: fleet.flowsToken,
      SHOUWANG_12345_URL: city.url12345,
      SHOUWANG_OPEN311_URL: city.urlOpen311,
      SHOUWANG_OPEN311_JURISDICTION: 'harbin',
      SHOUWANG_FLOWS_LEASE_LIMIT: '500',
    });

    // When each ticket can first be read from the fleet's API: its creation as the outside could see
    // it (the intake commits in batches, so `openedAt` can precede the commit by the batch's time).
    const visibleAt = new Map<string, number>();
    let watching = true;
    const watch = (async () => {
      while (watching && visibleAt.size < UNITS) {
        const list = (await fleet.api('GET', '/api/tickets?limit=5000', ADMIN)).body.tickets as { id: string }[] | undefined;
        const now = Date.now();
        for (const x of list ?? []) if (!visibleAt.has(x.id)) visibleAt.set(x.id, now);
        // Coarse enough not to load the fleet much more than the flows' own leases do.
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const raisedAt = new Map<string, number>();
    const c = await mqtt.connectAsync(mqttUrl, { clientId: 'bench-storm', reconnectPeriod: 0 });
    const cpu0 = cpuSeconds(nodeRed.pid);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: UNITS }, (_, i) => {
        const unitId = `storm-${String(i).padStart(4, '0')}`;
        const ts = Date.now();
        raisedAt.set(unitId, ts);
        const alarm: Alarm = {
          seq: 1,
          ts,
          id: `${unitId}-motion-1`,
          kind: 'motion',
          severity: 'major',
          state: 'raised',
          lat: 45.75,
          lon: 126.55,
        };
        return c.publishAsync(topics.uplink(unitId, 'alarm'), Buffer.from(encodeUplink('alarm', alarm)), { qos: 1 });
      }),
    );
    await c.endAsync();
    await waitFor(
      `${UNITS} work orders and Open311 requests`,
      () => (city.accepted('12345').length >= UNITS && city.accepted('open311').length >= UNITS) || undefined,
      300_000,
    );
    const nodeRedCpu = cpuSeconds(nodeRed.pid) - cpu0;
    watching = false;
    await watch;

    const tickets = (await fleet.api('GET', '/api/tickets?limit=5000', ADMIN)).body.tickets as {
      id: string;
      unitId: string;
      openedAt: number;
    }[];
    const byTicket = new Map(tickets.map((x) => [x.id, x]));
    const opened = tickets.map((x) => x.openedAt - (raisedAt.get(x.unitId) ?? Number.NaN)).sort((a, b) => a - b);
    const received = city
      .accepted('12345')
      .map((r) => {
        const tk = byTicket.get(String(r.body.code));
        return r.at - (raisedAt.get(tk?.unitId ?? '') ?? Number.NaN);
      })
      .sort((a, b) => a - b);
    const visible = tickets.map((x) => (visibleAt.get(x.id) ?? Number.NaN) - (raisedAt.get(x.unitId) ?? Number.NaN)).sort((a, b) => a - b);
    // Where the time goes: the flows' own part, from the ticket's first reading on the API to the work order's arrival.
    const flowsPart = city
      .accepted('12345')
      .map((r) => r.at - (visibleAt.get(String(r.body.code)) ?? Number.NaN))
      .sort((a, b) => a - b);
    const all = [...city.accepted('12345'), ...city.accepted('open311')];
    const lastOut = Math.max(...all.map((r) => r.at));
    const lastOpened = Math.max(...tickets.map((x) => x.openedAt));
    if (city.invalid.length || city.duplicates('12345') || city.duplicates('open311'))
      throw new Error(`the storm's deliveries were not clean: ${JSON.stringify({ invalid: city.invalid.slice(0, 3) })}`);
    return [
      {
        name: `storm of ${UNITS}: alarm → 12345 work order p50 (baseline: alarm → ticket opened)`,
        value: quantile(received, 0.5),
        unit: 'ms',
        baseline: quantile(opened, 0.5),
      },
      {
        name: `storm of ${UNITS}: alarm → 12345 work order p99 (baseline: alarm → ticket opened)`,
        value: quantile(received, 0.99),
        unit: 'ms',
        baseline: quantile(opened, 0.99),
        target: '< 1000 ms',
      },
      {
        name: `storm of ${UNITS}: alarm → ticket readable on the fleet API p50 (baseline: alarm → ticket openedAt)`,
        value: quantile(visible, 0.5),
        unit: 'ms',
        baseline: quantile(opened, 0.5),
      },
      {
        name: `storm of ${UNITS}: alarm → ticket readable on the fleet API p99 (baseline: alarm → ticket openedAt)`,
        value: quantile(visible, 0.99),
        unit: 'ms',
        baseline: quantile(opened, 0.99),
      },
      { name: `storm of ${UNITS}: ticket readable → 12345 work order p50 (the flows' part)`, value: quantile(flowsPart, 0.5), unit: 'ms' },
      { name: `storm of ${UNITS}: ticket readable → 12345 work order p99 (the flows' part)`, value: quantile(flowsPart, 0.99), unit: 'ms' },
      {
        // CPU time, unlike the latencies, hardly moves with what else the machine runs.
        name: `storm of ${UNITS}: Node-RED CPU per outside delivery`,
        value: (nodeRedCpu * 1000) / all.length,
        unit: 'ms',
      },
      {
        name: `storm of ${UNITS}: outside deliveries/s, 12345 + Open311 (baseline: tickets opened/s)`,
        value: all.length / ((lastOut - t0) / 1000),
        unit: '/s',
        baseline: tickets.length / ((lastOpened - t0) / 1000),
      },
    ];
  } finally {
    for (const fn of teardown) await fn();
  }
}

if (import.meta.main) console.table(await bench());
