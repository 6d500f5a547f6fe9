import { CARRIER } from './parts.ts';
import type { BoardDefinition } from './schema.ts';

export const pi4 = {
  ...CARRIER,
  id: 'pi4',
  name: 'Raspberry Pi 4 Model B',
  idleW: 3.1,
  // GPIO14/15 (PL011 once Bluetooth is moved off it with dtoverlay=disable-bt).
  gps: { path: '/dev/ttyAMA0', baudRate: 9600 },
} as const satisfies BoardDefinition;
