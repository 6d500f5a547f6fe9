import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.ts';
import type { Reachability } from '../domain/rollout-status.ts';
import type { UnitView } from '../domain/unit-state.ts';
import { readJsonFile } from '../json-file.ts';
import type { CommandClient } from '../services/commands.ts';
import type { FleetState } from '../services/fleet-state.ts';
import { OtaStore } from '../storage/ota-store.ts';
import type { Database } from '../storage/schema.ts';
import type { FleetStore } from '../storage/store.ts';
import { CampaignService } from './campaigns.ts';
import { parseTrustedKeys, Releases } from './releases.ts';
import { ArtifactLinks, OtaWire } from './wire.ts';

export interface Ota {
  releases: Releases;
  campaigns: CampaignService;
  links: ArtifactLinks;
  wire: OtaWire;
  /** Artifact bytes served, by the unit each link was made for (what an update cost on the wire). */
  served: ServedBytes;
  close(): Promise<void>;
}

export class ServedBytes {
  readonly #by = new Map<string, number>();

  add(unit: string, n: number): void {
    this.#by.set(unit, (this.#by.get(unit) ?? 0) + n);
  }

  of(unit: string): number {
    return this.#by.get(unit) ?? 0;
  }
}

export function reachOf(v: UnitView | undefined): Reachability {
  const s = v?.liveness.status;
  return s === 'online' ? 'online' : s === 'on-schedule' ? 'asleep' : 'unreachable';
}

/**
 * Over-the-air updates in the fleet: the releases registry (trusted keys from `ota.trustedKeysFile`,
 * artifacts under `<dataDir>/ota`), campaigns with their timers on a beat, jobs handed to a unit
 * the moment it wakes, and the units' reports from the fleet's session.
 */
export function startOta(o: {
  config: FleetConfig;
  db: Kysely<Database>;
  store: FleetStore;
  state: FleetState;
  client: MqttClient;
  commands: CommandClient;
  clock: { now(): number };
  instanceId: string;
  /** The API's own address, when `ota.publicUrl` is unset. */
  httpBase: () => string;
  log: Logger;
}): Ota {
  const c = o.config.ota;
  const log = o.log.child({ module: 'ota' });
  const keys = c.trustedKeysFile ? parseTrustedKeys(readJsonFile(c.trustedKeysFile, 'ota trusted keys')) : new Map();
  if (keys.size === 0) log.warn('no ota.trustedKeysFile: every release is refused');
  if (!c.urlSecret) log.warn('no ota.urlSecret: download links are signed with a key of this start only');
  const store = new OtaStore(o.db);
  const releases = new Releases({ store, keys, dir: join(o.config.dataDir, 'ota'), now: o.clock.now });
  const links = new ArtifactLinks(() => c.publicUrl || o.httpBase(), c.urlSecret ? Buffer.from(c.urlSecret) : randomBytes(32));
  const wire = new OtaWire({ commands: o.commands, releases, links, answerMs: c.answerS * 1000, now: o.clock.now });
  const campaigns = new CampaignService({
    store,
    registryUnits: () => o.store.listUnits(),
    reach: (id) => reachOf(o.state.get(id)),
    jobs: wire,
    clock: o.clock,
    instanceId: o.instanceId,
    recheckMs: c.recheckS * 1000,
    retryMs: c.retryS * 1000,
    log,
  });
  const unlisten = wire.listen(o.client, campaigns, log);
  // A unit waking up gets the jobs that waited for it.
  const last = new Map<string, Reachability>();
  const onUnit = (v: UnitView) => {
    const now = reachOf(v);
    const before = last.get(v.id);
    last.set(v.id, now);
    if (now === 'online' && before !== 'online') campaigns.wake(v.id);
  };
  o.state.on('unit', onUnit);
  let beat: Promise<unknown> = Promise.resolve();
  const poll = setInterval(() => {
    beat = campaigns.runDue().catch((err: unknown) => log.error({ err }, 'ota timers failed; next beat retries'));
  }, c.timerPollS * 1000);
  return {
    releases,
    campaigns,
    links,
    wire,
    served: new ServedBytes(),
    async close() {
      clearInterval(poll);
      o.state.off('unit', onUnit);
      unlisten();
      await beat;
      await campaigns.idle();
    },
  };
}
