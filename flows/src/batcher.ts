/**
 * Runs what arrives while one batch is out together in the next, at most `max` at a time: under a
 * storm one fleet call or one file write per batch instead of one per item, and a lone item goes
 * at once. Each `add` settles with its own batch (an error rejects every item of that batch).
 */
export function batcher<T>(max: number, run: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  const queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let running = false;
  const flush = async (): Promise<void> => {
    if (running) return;
    running = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, max);
      try {
        await run(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      void flush();
    });
}
