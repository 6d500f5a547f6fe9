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

export async function openBrokerState(kind: BrokerStateKind, dataDir: string, redisUrl: string): Promise<BrokerState> {
  if (kind === 'memory') return { options: {}, close: async () => {} };
  if (kind === 'level') {
    const db = new Level<string, Buffer>(join(dataDir, 'broker'), { valueEncoding: 'buffer' });
    await db.open();
    return { options: { persistence: new AsyncLevelPersistence(db) }, close: () => db.close() };
  }
  if (!redisUrl) throw new Error('broker.state = redis needs cluster.redisUrl');
  const conn = new Redis(redisUrl);
  const persistence = new RetainedAsStream({ conn });
  const mq = MQEmitterRedis({ connectionString: redisUrl });
  return {
    options: { persistence, mq },
    close: async () => {
      await new Promise<void>((resolve) => mq.close(() => resolve()));
      conn.disconnect();
    },
  };
}
