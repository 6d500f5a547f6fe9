// The async persistence classes Aedes 1.x wants ship without type declarations; these cover
// exactly what broker-state.ts uses.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level';
  export default class AsyncLevelPersistence {
    constructor(db: AbstractLevel<string | Buffer | Uint8Array, string, Buffer>);
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: unknown): Promise<void>;
    outgoingClearMessageId(client: { clean: boolean }, packet: { cmd: string }): Promise<unknown>;
    outgoingStream(client: unknown): AsyncIterable<{ messageId?: number | null; dup?: boolean }>;
  }
}

declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis';
  export default class AsyncRedisPersistence {
    constructor(options: { conn: Redis; maxSessionDelivery?: number });
    setup(broker: unknown): Promise<void>;
    outgoingClearMessageId(client: { clean: boolean }, packet: { cmd: string }): Promise<unknown>;
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
    outgoingStream(client: unknown): AsyncIterable<{ messageId?: number | null; dup?: boolean }>;
    storeRetained(packet: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
}
