/**
 * Vocabulary of the flows end-to-end tests: `startFlowsSystem(t, n)` runs gateway, fleet, Node-RED
 * with the shipped default flows and `n` simulated units (scripts/system.ts), its deliver nodes
 * pointed at a recording city platform (flows/test/city-platform.ts) with short leases, tries and
 * time-outs; `tamper` opens a unit's enclosure through the simulator (a real alarm, a real
 * ticket); `api` calls the fleet as a role; `hook` calls Node-RED's inbound webhooks.
 */
import type { TestContext } from 'node:test';
import { type CityPlatform, startCityPlatform } from '../../flows/test/city-platform.ts';
import { waitFor } from '../../flows/test/support.ts';
import type { FlowsPart, RunningSystem } from '../system.ts';
import { sim } from './fleet-view.ts';
import { startTestSystem } from './harness.ts';

export const ADMIN = 'swt_flows-e2e-admin-token-0123456789abcdef';
export const INBOUND = 'swi_flows-e2e-inbound-token-0123456789';
export const LEASE_S = 2;
export const ADMIN_PASSWORD = 'flows-e2e-admin-password';

export interface FlowsSystem {
  sys: RunningSystem;
  dataDir: string;
  city: CityPlatform;
  flows: () => FlowsPart;
  api(method: string, path: string, role?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  hook(path: string, body: unknown, token?: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  tamper(unitIndex: number): Promise<string>;
  ticket(id: string): Promise<{ state: string; [k: string]: unknown }>;
}

export async function startFlowsSystem(t: TestContext, units: number): Promise<FlowsSystem> {
  const city = await startCityPlatform(t);
  const { sys, dataDir } = await startTestSystem(t, {
    units,
    adminToken: ADMIN,
    flows: {
      httpPort: 0,
      env: {
        SHOUWANG_12345_URL: city.url12345,
        SHOUWANG_OPEN311_URL: city.urlOpen311,
        SHOUWANG_OPEN311_JURISDICTION: 'harbin',
        SHOUWANG_FLOWS_LEASE_S: String(LEASE_S),
        SHOUWANG_FLOWS_POLL_S: '0.2',
        SHOUWANG_FLOWS_TIMEOUT_S: '0.5',
        SHOUWANG_FLOWS_TRIES: '4',
        SHOUWANG_FLOWS_BACKOFF_MS: '50',
        SHOUWANG_OPEN311_POLL_S: '1',
        SHOUWANG_FLOWS_INBOUND_TOKEN: INBOUND,
        SHOUWANG_FLOWS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    },
  });
  const base = `http://127.0.0.1:${sys.httpPort}`;
  const tokens = new Map<string, string>([['admin', ADMIN]]);
  const json = async (res: Response) => ({ status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> });
  const call = async (method: string, path: string, token: string, body?: unknown) =>
    json(
      await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
  const tokenOf = async (role: string) => {
    let tok = tokens.get(role);
    if (!tok) {
      tok = (await call('POST', '/api/tokens', ADMIN, { role, name: `e2e-${role}` })).body.token as string;
      tokens.set(role, tok);
    }
    return tok;
  };
  const api: FlowsSystem['api'] = async (method, path, role = 'admin', body) => call(method, path, await tokenOf(role), body);
  const flows = () => {
    if (!sys.flows) throw new Error('the system runs no Node-RED');
    return sys.flows;
  };
  const ticket = async (id: string) => (await api('GET', `/api/tickets/${id}`)).body.ticket as { state: string };
  return {
    sys,
    dataDir,
    city,
    flows,
    api,
    ticket,
    hook: async (path, body, token = INBOUND) =>
      json(
        await fetch(`http://127.0.0.1:${flows().httpPort}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    tamper: async (i) => {
      const unit = sys.units[i];
      if (!unit) throw new Error(`no unit ${i}`);
      await sim(dataDir, unit.id, 'tamper', 'on=true');
      return waitFor(
        `${unit.id}'s ticket`,
        async () => {
          const list = (await api('GET', '/api/tickets')).body.tickets as { id: string; unitId: string }[] | undefined;
          return list?.find((x) => x.unitId === unit.id)?.id;
        },
        30_000,
      );
    },
  };
}

/** Every accepted order per key and target exactly once, and each ticket's orders in the order of its changes. */
export function orderedOnce(city: CityPlatform): string[] {
  const problems: string[] = [];
  for (const target of ['12345', 'open311'] as const) {
    const keys = city.accepted(target).map((r) => r.key);
    const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
    if (twice.length) problems.push(`${target} got ${twice.join(', ')} twice`);
  }
  const byTicket = new Map<string, number[]>();
  for (const r of city.accepted('12345')) {
    const code = String(r.body.code);
    byTicket.set(code, [...(byTicket.get(code) ?? []), Number(r.body.revision)]);
  }
  for (const [code, revs] of byTicket) {
    if (revs.some((v, i) => i > 0 && v <= (revs[i - 1] as number))) problems.push(`${code}: revisions out of order ${revs.join(',')}`);
  }
  if (city.invalid.length) problems.push(`invalid requests: ${JSON.stringify(city.invalid)}`);
  return problems;
}
