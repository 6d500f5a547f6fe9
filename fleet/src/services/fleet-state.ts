import { EventEmitter } from 'node:events';
import type { DecodedMessage } from '@shouwang/protocol';
import { applyMessage, emptyUnit, type UnitView } from '../domain/unit-state.ts';

/** Live state of every unit in memory; emits `unit` with the new view on every change. */
export class FleetState extends EventEmitter<{ unit: [UnitView] }> {
  readonly #units = new Map<string, UnitView>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    super();
    this.#now = now;
    this.setMaxListeners(0); // one listener per open dashboard (SSE)
  }

  apply(m: DecodedMessage): void {
    const before = this.#units.get(m.unitId) ?? emptyUnit(m.unitId);
    const after = applyMessage(before, m, this.#now());
    this.#units.set(m.unitId, after);
    this.emit('unit', after);
  }

  get(id: string): UnitView | undefined {
    return this.#units.get(id);
  }

  list(): UnitView[] {
    return [...this.#units.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
