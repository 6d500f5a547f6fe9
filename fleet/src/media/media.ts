import { join } from 'node:path';
import { decodeMessage, type ErrorCode, filters, type MediaAck } from '@shouwang/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.ts';
import type { UnitState } from '../domain/unit-state.ts';
import type { CommandClient } from '../services/commands.ts';
import { type DurableSession, startDurableSession } from '../services/durable-session.ts';
import { MediaStore } from '../storage/media-store.ts';
import type { Database } from '../storage/schema.ts';
import { MediaAssembler } from './assembler.ts';
import { type BlobStore, FileBlobStore } from './blob-store.ts';
import { EvidenceBook } from './evidence.ts';
import { LiveViewing } from './live.ts';
import { MediaRetention } from './retention.ts';
import { S3BlobStore } from './s3-store.ts';

/**
 * The fleet's receiving side for media: its own durable session on the gateway takes every
 * unit's chunks (the gateway forwards them, never journals them), each alarm's evidence manifest
 * and presence (a unit coming online hears what
 * the fleet holds of its unfinished files). Files go to the file store or, with `media.store =
 * "s3"`, to an S3-compatible service. The head each alarm carried comes from the alarm intake once
 * the alarm is stored (`evidence.takeAlarms`), so an alarm reaches the fleet once, not once per consumer.
 */
export interface Media {
  store: MediaStore;
  blobs: BlobStore;
  assembler: MediaAssembler;
  evidence: EvidenceBook;
  live: LiveViewing;
  retention: MediaRetention;
  session: DurableSession;
  rejected: Map<ErrorCode, number>;
  close(): Promise<void>;
}

export async function startMedia(o: {
  config: FleetConfig;
  mqtt: FleetConfig['mqtt'];
  instanceId: string;
  db: Kysely<Database>;
  commands: CommandClient;
  clock: { now(): number };
  /** The unit's live state (its link and power rung, for live feeds). */
  unit: (id: string) => UnitState | undefined;
  log: Logger;
}): Promise<Media> {
  const c = o.config.media;
  const log = o.log.child({ module: 'media' });
  const dir = c.dir || join(o.config.dataDir, 'media');
  const blobs: BlobStore = c.store === 's3' ? await S3BlobStore.open(c.s3) : new FileBlobStore(join(dir, 'store'));
  const store = new MediaStore(o.db);
  const stagingDir = join(dir, 'staging');
  const evidence = new EvidenceBook(store, o.clock.now);
  const ack = (unitId: string, args: MediaAck) => {
    o.commands
      .send(unitId, 'media-ack', args, { background: true, timeoutMs: 60_000 })
      .then((r) => {
        if (r.status === 'error') log.warn({ unitId, recording: args.recording, error: r.error }, 'media-ack refused by the unit');
      })
      .catch((err: unknown) => log.debug({ err, unitId, recording: args.recording }, 'media-ack not answered'));
  };
  const assembler = new MediaAssembler({
    store,
    blobs,
    stagingDir,
    unitQuotaBytes: c.unitQuotaBytes,
    ack,
    now: o.clock.now,
    log,
  });
  const rejected = new Map<ErrorCode, number>();
  const handle = async (topic: string, payload: Buffer): Promise<void> => {
    const m = decodeMessage(topic, payload);
    if (!m.ok) {
      rejected.set(m.error.code, (rejected.get(m.error.code) ?? 0) + 1);
      log.warn({ topic, error: m.error }, 'media message dropped');
      return;
    }
    const v = m.value;
    if (v.type === 'chunk') await assembler.take(v.unitId, v.payload);
    else if (v.type === 'uplink' && v.kind === 'evidence') await evidence.takeManifest(v.unitId, v.payload);
    else if (v.type === 'uplink' && v.kind === 'presence' && v.payload.state === 'online') await assembler.unitOnline(v.unitId);
  };
  const session = startDurableSession({
    url: o.mqtt.url,
    username: o.mqtt.username,
    password: o.mqtt.password,
    clientId: `${o.mqtt.clientId}-media-${o.instanceId}`,
    filters: [filters.allChunks(), filters.allUplink('evidence'), filters.allUplink('presence')],
    handle,
    log,
    what: 'media intake',
  });
  const retention = new MediaRetention({
    db: o.db,
    store,
    blobs,
    stagingDir,
    policy: c.retention,
    clock: o.clock,
    instanceId: o.instanceId,
    log: log.child({ part: 'retention' }),
  });
  await retention.arm();
  let pruning: Promise<unknown> = Promise.resolve();
  const poll = setInterval(() => {
    pruning = retention.runDue().catch((err: unknown) => log.error({ err }, 'media retention failed; the next interval retries'));
  }, c.retention.pollS * 1000);
  log.info({ store: blobs.name, dir }, 'media intake ready');
  return {
    store,
    blobs,
    assembler,
    evidence,
    live: new LiveViewing({
      commands: o.commands,
      unit: o.unit,
      latestSnapshot: async (id) =>
        (await store.list(id, { limit: 100 })).find((m) => m.kind === 'snapshot' && m.state === 'complete')?.recording,
      now: o.clock.now,
      log: log.child({ part: 'live' }),
    }),
    retention,
    session,
    rejected,
    async close() {
      clearInterval(poll);
      await pruning;
      await session.close();
      await blobs.close();
    },
  };
}
