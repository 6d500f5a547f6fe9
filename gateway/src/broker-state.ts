import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AedesOptions } from 'aedes';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { Redis } from 'ioredis';
import { Level } from 'level';
import MQEmitterRedis from 'mqemitter-redis';

/**
 * Where the broker keeps sessions, subscriptions, retained messages and QoS 1 messages queued for
 * offline clients, and how nodes share publishes:
 * - `level` (default): on disk in dataDir, so a command queued for a sleeping unit survives a
 *   gateway restart without any server to install;
 * - `redis`: aedes-persistence-redis + mqemitter-redis, for several gateway nodes behind one
 *   address; any node can deliver to a unit connected to any other;
 * - `memory`: Aedes's default, for tests that want nothing on disk.
 */
export type BrokerStateKind = 'level' | 'redis' | 'memory';

export interface BrokerState {
  options: Pick<AedesOptions, 'persistence' | 'mq'>;
  close(): Promise<void>;
}

/**
 * Aedes 1.2 pipes the retained-message source as a stream; aedes-persistence-redis 11 returns an
 * async generator there (the level one wraps it itself), so adapt that one method.
 */
class RetainedAsStream extends AsyncRedisPersistence {
  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(super.createRetainedStreamCombi(patterns));
  }
}

/**
 * Aedes stores no in-flight state for a clean session's QoS 1 deliveries (lib/client.js
 * deliverQoS), yet looks every PUBACK up in the persistence: a disk or network read per message
 * that can only miss. Answer those at once; every other lookup goes through.
 */
function skipCleanPubackLookups<
  P extends { outgoingClearMessageId(client: { clean: boolean }, packet: { cmd: string }): Promise<unknown> },
>(persistence: P): P {
  const lookup = persistence.outgoingClearMessageId.bind(persistence);
  persistence.outgoingClearMessageId = async (client, packet) =>
    client.clean && packet.cmd === 'puback' ? undefined : lookup(client, packet);
  return persistence;
}

/**
 * Aedes numbers each packet when it is published and later drops any delivery whose number is
 * lower than one the same client already got (lib/client.js `dedupe`). A retained publish waits
 * for `storeRetained` before it is emitted, so with an on-disk or networked store a later packet
 * overtakes it and it is silently never delivered — 48 % of deliveries lost in our test. Retained
 * writes are therefore queued in publish order and acknowledged at once: emission keeps the
 * order, the store still sees every write in order, and the readings themselves are already
 * durable in the ingest journal before the PUBACK.
 */
function retainInPublishOrder<P extends { storeRetained(packet: unknown): Promise<unknown> }>(
  persistence: P,
  onError: (err: Error) => void,
): P {
  const store = persistence.storeRetained.bind(persistence);
  let tail: Promise<unknown> = Promise.resolve();
  persistence.storeRetained = (packet) => {
    tail = tail.then(() => store(packet)).catch((err: unknown) => onError(err as Error));
    return Promise.resolve();
  };
  return persistence;
}

/**
 * A QoS 1 message found in a session's queue with a Packet Identifier was sent before and not
 * acknowledged: it goes out again with DUP=1 ([MQTT-3.3.1-1]). Aedes resends it as stored, DUP=0.
 * A message queued while the client was away has no identifier yet and goes out as new.
 */
function redeliverWithDup<P extends { outgoingStream(client: unknown): AsyncIterable<{ messageId?: number | null; dup?: boolean }> }>(
  persistence: P,
): P {
  const stream = persistence.outgoingStream.bind(persistence);
  persistence.outgoingStream = (client) =>
    Readable.from(
      (async function* () {
        for await (const packet of stream(client)) {
          if (typeof packet.messageId === 'number' && packet.messageId > 0) packet.dup = true;
          yield packet;
        }
      })(),
    );
  return persistence;
}

export async function openBrokerState(
  kind: BrokerStateKind,
  dataDir: string,
  redisUrl: string,
  onError: (err: Error) => void,
): Promise<BrokerState> {
  if (kind === 'memory') return { options: {}, close: async () => {} };
  if (kind === 'level') {
    const db = new Level<string, Buffer>(join(dataDir, 'broker'), { valueEncoding: 'buffer' });
    await db.open();
    return {
      options: { persistence: retainInPublishOrder(redeliverWithDup(skipCleanPubackLookups(new AsyncLevelPersistence(db))), onError) },
      close: () => db.close(),
    };
  }
  if (!redisUrl) throw new Error('broker.state = redis needs cluster.redisUrl');
  const conn = new Redis(redisUrl);
  const persistence = retainInPublishOrder(redeliverWithDup(skipCleanPubackLookups(new RetainedAsStream({ conn }))), onError);
  const mq = MQEmitterRedis({ connectionString: redisUrl });
  return {
    options: { persistence, mq },
    close: async () => {
      await new Promise<void>((resolve) => mq.close(() => resolve()));
      conn.disconnect();
    },
  };
}
