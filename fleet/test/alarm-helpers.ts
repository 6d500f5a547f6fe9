import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Alarm } from '@shouwang/protocol';
import mqtt from 'mqtt';
import type { AlarmRecord } from '../src/domain/alarm-engine.ts';
import { startGateway } from './gateway-helper.ts';
import { apiClient, startTestFleet, tempDir, waitFor } from './helpers.ts';

/** A position in the sample grid's Daoli district. */
export const DAOLI = { lat: 45.75, lon: 126.55 };

/** An intrusion (motion) alarm as a unit raises it, at `ts` (default now) in Daoli. */
export const intrusion = (seq: number, id: string, extra: Partial<Alarm> = {}): Alarm => ({
  seq,
  ts: Date.now(),
  id,
  kind: 'motion',
  severity: 'major',
  state: 'raised',
  ...DAOLI,
  ...extra,
});

/** The admin token of the fleets `gatewaySystem` starts. */
export const ADMIN = 'admin-token-for-alarm-tests-0123456789';

export interface Ticket {
  alarmCount: number;
  grid: { cell: string; district: string };
  department: string;
  state: string;
  openedAt: number;
  yellowAt: number;
  deadlineAt: number;
  escalateAt: number;
}

/** The real gateway process, a fleet that issues unit credentials into its file, and a way to provision and connect a unit. */
export async function gatewaySystem(
  t: TestContext,
  instanceId: string,
  storageUrl: string,
  more: Omit<Parameters<typeof startTestFleet>[2], 'dataDir' | 'storageUrl' | 'instanceId' | 'mqtt' | 'auth' | 'registry'> = {},
) {
  const dir = await tempDir(t);
  const { mqttUrl, credentialsFile, fleetPassword } = await startGateway(t, dir);
  const opts = {
    dataDir: join(dir, 'fleet'),
    storageUrl,
    instanceId,
    mqtt: { username: 'fleet', password: fleetPassword },
    auth: { bootstrapAdminToken: ADMIN },
    registry: { credentialsFile },
    ...more,
  };
  const start = () => startTestFleet(t, mqttUrl, opts);
  const provision = async (base: string, id: string): Promise<mqtt.MqttClient> => {
    const api = apiClient(base);
    const code = (await api('POST', '/api/registry/units', ADMIN, { id })).body.claimCode as string;
    const password = (await api('POST', '/api/claim', ADMIN, { code, site: DAOLI })).body.password as string;
    let unit: mqtt.MqttClient | undefined;
    // The gateway picks the new credential up when it sees the file change.
    await waitFor(async () => {
      unit = await mqtt.connectAsync(mqttUrl, { clientId: id, username: id, password, reconnectPeriod: 0 }).catch(() => undefined);
      return unit !== undefined;
    }, 10_000);
    t.after(() => unit?.end(true));
    return unit as mqtt.MqttClient;
  };
  return { start, provision };
}

export const ticketsOf = async (base: string) => (await apiClient(base)('GET', '/api/tickets', ADMIN)).body.tickets as Ticket[];

/** An open motion episode of `unitId` (occurrence a-1) as the engine records it, raised and received at `at`. */
export const alarmRecord = (unitId: string, at: number, patch: Partial<AlarmRecord> = {}): AlarmRecord => ({
  episode: `${unitId}~motion~a-1`,
  unitId,
  kind: 'motion',
  source: 'unit',
  severity: 'major',
  priority: 'high',
  category: 'public-security',
  state: 'active',
  raisedAt: at,
  receivedAt: at,
  clearedAt: null,
  updatedAt: at,
  late: false,
  repeats: 0,
  chatter: 0,
  inhibitedBy: null,
  ackedBy: null,
  ackedAt: null,
  shelvedUntil: null,
  shelvedBy: null,
  shelveReason: null,
  lat: null,
  lon: null,
  value: null,
  message: null,
  ticketId: null,
  ...patch,
});
