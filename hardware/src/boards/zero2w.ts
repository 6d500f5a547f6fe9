import { CARRIER, PACK_640WH } from './parts.ts';
import type { BoardDefinition } from './schema.ts';

export const zero2w = {
  ...CARRIER,
  id: 'zero2w',
  name: 'Raspberry Pi Zero 2 W',
  idleW: 0.6,
  gps: { path: '/dev/serial0', baudRate: 9600 },
  // The light build carries half the pack.
  battery: { ...PACK_640WH, capacityWh: 320 },
} as const satisfies BoardDefinition;
