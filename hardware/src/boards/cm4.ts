import { CARRIER } from './parts.ts';
import type { BoardDefinition } from './schema.ts';

export const cm4 = {
  ...CARRIER,
  id: 'cm4',
  name: 'Raspberry Pi Compute Module 4',
  // No USB hub or Ethernet PHY of the Model B on the module: a little under the Pi 4.
  idleW: 2.6,
  // UART2 (dtoverlay=uart2) leaves the primary UART to the console on the carrier.
  gps: { path: '/dev/ttyAMA1', baudRate: 9600 },
} as const satisfies BoardDefinition;
