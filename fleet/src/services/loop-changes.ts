/** What one commit of the alarm loop changed, by id: the episodes and the tickets written. */
export interface LoopChange {
  episodes?: readonly string[];
  tickets?: readonly string[];
}

/**
 * Where the live views hear of changes. This process's commits come through `LoopChanges`; a
 * change committed by another fleet instance on the same PostgreSQL does not (in-process events do
 * not cross), so the views reconcile on a slow beat too. A LISTEN/NOTIFY listener can be another
 * source behind this interface.
 */
export interface LoopChangeSource {
  /** `f` hears each change after its transaction committed; the answer unsubscribes. */
  subscribe(f: (c: LoopChange) => void): () => void;
}

/** The in-process source: the alarm service and the ticket service call `note` once they committed. */
export class LoopChanges implements LoopChangeSource {
  readonly #listeners = new Set<(c: LoopChange) => void>();
  /** Listeners that threw: the commit they heard of stands, and the next reconcile shows it. */
  failed = 0;

  note(c: LoopChange): void {
    for (const f of this.#listeners)
      try {
        f(c);
      } catch {
        this.failed++;
      }
  }

  subscribe(f: (c: LoopChange) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }
}
