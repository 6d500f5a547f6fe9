/**
 * A unit's two durable stores as a start of the agent opens them on `dir` (the bulk lane's index
 * and the outbox), for tests that stop a unit and start it again on the same files.
 *   `stop()` closes them as a kill leaves them (committed); `evidence()` is what waits in the
 *   outbox as `evidence` messages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Evidence } from '@shouwang/protocol';
import { BulkStore } from '../src/services/bulk-store.ts';
import { Outbox } from '../src/services/outbox.ts';

export async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

export function unitStores(t: TestContext, dir: string) {
  const bulk = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: 1 << 30, now: () => Date.now() });
  const outbox = Outbox.open(join(dir, 'outbox.db'), { quotaBytes: 1 << 30 });
  let open = true;
  const stop = () => {
    if (!open) return;
    open = false;
    bulk.close();
    outbox.close();
  };
  t.after(stop);
  const evidence = () => outbox.next(1000, { kinds: ['evidence'] }).map((r) => r.payload as Omit<Evidence, 'seq'>);
  return { bulk, outbox, evidence, stop };
}
