import type { BoardDefinition } from './schema.ts';

/**
 * What the three boards share: the same carrier wiring (power monitors, sensors, pack), so only
 * the SoC module's own figures and UART paths differ per board file.
 */
export const MONITORS: BoardDefinition['monitors'] = [
  { name: 'solar', chip: 'ina219', address: 0x40, shuntOhms: 0.1 },
  { name: 'wind', chip: 'ina219', address: 0x41, shuntOhms: 0.1 },
  // The pack sees both directions and up to ~8 A: the INA226's 2.5 µV shunt LSB over 10 mΩ gives 0.25 mA.
  { name: 'battery', chip: 'ina226', address: 0x44, shuntOhms: 0.01 },
  { name: 'load', chip: 'ina219', address: 0x45, shuntOhms: 0.1 },
];

// 10-bit ADC at 3.3 V: tilt 0–1023 → 0–90°; temperature TMP36-style, 10 mV/°C with 500 mV at 0 °C.
export const TILT: BoardDefinition['tilt'] = { pin: 'A0', scale: 90 / 1023, offset: 0 };
export const TEMPERATURE: BoardDefinition['temperature'] = { pin: 'A1', scale: 330 / 1023, offset: -50 };

/** 4S LiFePO4, 12.8 V × 50 Ah. */
export const PACK_640WH: BoardDefinition['battery'] = { chemistry: 'lifepo4', cells: 4, capacityWh: 640 };

/** stack-notes: camera module ≈ 1.25 W. */
export const CAMERA: BoardDefinition['camera'] = { device: '/dev/video0', watts: 1.25, microphone: 'default', speaker: 'default' };

/** LTE/NR modules enumerate their AT port as the third ttyUSB (Quectel: DM, NMEA, AT, modem). */
export const MODEM_USB: BoardDefinition['modem'] = { path: '/dev/ttyUSB2', baudRate: 115_200 };

/** raspi-io exports its class as `RaspiIO` (no default export). */
export const RASPI_IO: BoardDefinition['ioPlugin'] = { package: 'raspi-io', export: 'RaspiIO' };

/**
 * The carrier board every SoC module plugs into: sensors, monitors, modem, camera, pack and the
 * IO plugin. A board file adds only what the module itself decides (idle draw, GPS UART).
 */
export const CARRIER = {
  i2cBus: 1,
  monitors: MONITORS,
  tamperPin: 17,
  motionPin: 27,
  tilt: TILT,
  temperature: TEMPERATURE,
  modem: MODEM_USB,
  camera: CAMERA,
  battery: PACK_640WH,
  ioPlugin: RASPI_IO,
  // Every SoC module the carrier takes (BCM2711, BCM2710) has the VideoCore encoder behind V4L2 M2M.
  h264Encoder: 'h264_v4l2m2m',
} as const satisfies Partial<BoardDefinition>;
