import type { Alarm } from '@shouwang/protocol';

/** A position in the sample grid's Daoli district. */
export const DAOLI = { lat: 45.75, lon: 126.55 };

/** An intrusion (motion) alarm as a unit raises it, at `ts` (default now) in Daoli. */
export const intrusion = (seq: number, id: string, extra: Partial<Alarm> = {}): Alarm => ({
  seq,
  ts: Date.now(),
  id,
  kind: 'motion',
  severity: 'major',
  state: 'raised',
  ...DAOLI,
  ...extra,
});
