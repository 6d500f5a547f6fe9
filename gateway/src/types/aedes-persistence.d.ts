// The async persistence classes Aedes 1.x wants ship without type declarations; these cover
// exactly what broker-state.ts uses.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level';
  export default class AsyncLevelPersistence {
    constructor(db: AbstractLevel<string | Buffer | Uint8Array, string, Buffer>);
    setup(broker: unknown): Promise<void>;
  }
}

declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis';
  export default class AsyncRedisPersistence {
    constructor(options: { conn: Redis; maxSessionDelivery?: number });
    setup(broker: unknown): Promise<void>;
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
    destroy(): Promise<void>;
  }
}
