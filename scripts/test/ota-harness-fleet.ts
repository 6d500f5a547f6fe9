/**
 * The fleet's side of an over-the-air test, on the real gateway: a service client that sends
 * `ota` jobs as the fleet does (QoS 1, `expires` = the job's deadline, so a sleeping unit's session
 * keeps it) and collects every `ota` report and command answer.
 */
import type { TestContext } from 'node:test';
import {
  type CommandResponse,
  decodeMessage,
  encodeRequest,
  filters,
  type OtaStatus,
  type Presence,
  topics,
  type UpdateJob,
} from '@shouwang/protocol';
import {
  type ArtifactServer,
  artifactServer,
  makeReleases,
  type Releases,
  type SupervisedUnit,
  supervisedUnit,
} from '../../device/test/ota-harness.ts';
import { until } from '../../device/test/wait.ts';
import { connect, startGateway } from '../../gateway/test/helpers.ts';

export interface OtaFleet {
  url: string;
  password: string;
  reports: { unitId: string; status: OtaStatus }[];
  /** Every presence the units said (or their wills), in arrival order. */
  presences: { unitId: string; presence: Presence }[];
  answers: Map<string, CommandResponse<'ota'>>;
  send(unitId: string, job: UpdateJob): Promise<string>;
  latest(unitId: string): OtaStatus | undefined;
  /** Units whose retained presence says online (subscribed to their requests by then). */
  online: Set<string>;
}

let next = 0;

export async function otaFleet(t: TestContext, unitIds: string[]): Promise<OtaFleet> {
  const password = 'unit-secret-123';
  const gw = await startGateway(t, {
    units: Object.fromEntries(unitIds.map((u) => [u, password])),
    services: { fleet: 'fleet-secret-123' },
  });
  const client = await connect(t, gw.url, 'fleet', 'fleet-secret-123');
  const reports: OtaFleet['reports'] = [];
  const presences: OtaFleet['presences'] = [];
  const answers = new Map<string, CommandResponse<'ota'>>();
  const online = new Set<string>();
  client.on('message', (topic, payload) => {
    const m = decodeMessage(topic, payload);
    if (!m.ok) return;
    const v = m.value;
    if (v.type === 'uplink' && v.kind === 'presence') {
      presences.push({ unitId: v.unitId, presence: v.payload as Presence });
      if (v.payload.state === 'online') online.add(v.unitId);
      else online.delete(v.unitId);
    }
    if (v.type === 'uplink' && v.kind === 'ota') reports.push({ unitId: v.unitId, status: v.payload as OtaStatus });
    if (v.type === 'response' && v.command === 'ota') answers.set(v.payload.id, v.payload as CommandResponse<'ota'>);
  });
  await client.subscribeAsync([filters.allUplink('ota'), filters.allUplink('presence'), filters.allResponses()], { qos: 1 });
  return {
    url: gw.url,
    password,
    reports,
    presences,
    answers,
    async send(unitId, job) {
      const id = `job-${++next}`;
      await client.publishAsync(
        topics.request(unitId, 'ota'),
        Buffer.from(encodeRequest('ota', { id, args: job, expires: job.deadline })),
        {
          qos: 1,
        },
      );
      return id;
    },
    online,
    latest: (unitId) => reports.filter((r) => r.unitId === unitId).at(-1)?.status,
  };
}

/** The usual scene: releases 0.1.0 and 0.2.0, their artifact server, the gateway and one unit on 0.1.0, online. */
export async function otaScene(
  t: TestContext,
  unitId: string,
  o: { env?: Record<string, string>; beforeStart?: (rel: Releases) => void } = {},
): Promise<{ rel: Releases; server: ArtifactServer; fleet: OtaFleet; unit: SupervisedUnit }> {
  const rel = await makeReleases(t);
  o.beforeStart?.(rel);
  const server = await artifactServer(t, rel.root);
  const fleet = await otaFleet(t, [unitId]);
  const unit = await supervisedUnit(t, {
    unitId,
    url: fleet.url,
    password: fleet.password,
    base: rel.base,
    trustedFile: rel.trustedFile,
    env: o.env ?? {},
  });
  await until('the unit online', () => fleet.online.has(unitId), 20_000);
  return { rel, server, fleet, unit };
}
