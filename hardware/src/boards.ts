import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * Board definitions are data: which chips sit where, which pins mean what, which serial ports
 * lead to the GPS and the modem. The agent reads them; nothing branches on a board's name.
 */
const Monitor = Type.Object({
  name: Type.Union([Type.Literal('solar'), Type.Literal('wind'), Type.Literal('battery'), Type.Literal('load')]),
  chip: Type.Union([Type.Literal('ina219'), Type.Literal('ina226')]),
  address: Type.Integer({ minimum: 0x40, maximum: 0x4f, description: 'INA219/INA226 7-bit addresses are 0x40–0x4F' }),
  shuntOhms: Type.Number({ exclusiveMinimum: 0 }),
});
const Analog = Type.Object({ pin: Type.String(), scale: Type.Number(), offset: Type.Number() });
const Serial = Type.Object({ path: Type.String(), baudRate: Type.Integer({ minimum: 1200 }) });

export const BoardDefinition = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** Idle draw of the board itself, W (stack-notes: Pi 4 ≈ 3.1 W, Zero 2 W ≈ 0.6 W). */
  idleW: Type.Number({ minimum: 0 }),
  monitors: Type.Array(Monitor, { minItems: 1 }),
  tamperPin: Type.Integer({ minimum: 0 }),
  motionPin: Type.Integer({ minimum: 0 }),
  /** Analog tilt (degrees = raw × scale + offset) and enclosure temperature (°C), through an ADC. */
  tilt: Analog,
  temperature: Analog,
  gps: Serial,
  modem: Serial,
  camera: Type.Object({ device: Type.String(), watts: Type.Number({ minimum: 0 }) }),
  battery: Type.Object({
    chemistry: Type.Literal('lifepo4'),
    cells: Type.Integer({ minimum: 1 }),
    capacityWh: Type.Number({ exclusiveMinimum: 0 }),
  }),
  /** npm package of the johnny-five IO plugin for the real board, loaded only in real mode. */
  ioPlugin: Type.String(),
});
export type BoardDefinition = Static<typeof BoardDefinition>;

const MONITORS: BoardDefinition['monitors'] = [
  { name: 'solar', chip: 'ina219', address: 0x40, shuntOhms: 0.1 },
  { name: 'wind', chip: 'ina219', address: 0x41, shuntOhms: 0.1 },
  { name: 'battery', chip: 'ina226', address: 0x44, shuntOhms: 0.01 },
  { name: 'load', chip: 'ina219', address: 0x45, shuntOhms: 0.1 },
];
// 10-bit ADC: tilt 0–1023 → 0–90°, temperature (TMP36-style) 10 mV/°C with 500 mV offset at 3.3 V.
const TILT = { pin: 'A0', scale: 90 / 1023, offset: 0 };
const TEMP = { pin: 'A1', scale: 330 / 1023, offset: -50 };
const BATTERY = { chemistry: 'lifepo4' as const, cells: 4, capacityWh: 640 };

export const BOARDS = {
  pi4: {
    id: 'pi4',
    name: 'Raspberry Pi 4 Model B',
    idleW: 3.1,
    monitors: MONITORS,
    tamperPin: 17,
    motionPin: 27,
    tilt: TILT,
    temperature: TEMP,
    gps: { path: '/dev/ttyAMA0', baudRate: 9600 },
    modem: { path: '/dev/ttyUSB2', baudRate: 115200 },
    camera: { device: '/dev/video0', watts: 1.25 },
    battery: BATTERY,
    ioPlugin: 'raspi-io',
  },
  cm4: {
    id: 'cm4',
    name: 'Raspberry Pi Compute Module 4',
    idleW: 2.6,
    monitors: MONITORS,
    tamperPin: 17,
    motionPin: 27,
    tilt: TILT,
    temperature: TEMP,
    gps: { path: '/dev/ttyAMA1', baudRate: 9600 },
    modem: { path: '/dev/ttyUSB2', baudRate: 115200 },
    camera: { device: '/dev/video0', watts: 1.25 },
    battery: BATTERY,
    ioPlugin: 'raspi-io',
  },
  zero2w: {
    id: 'zero2w',
    name: 'Raspberry Pi Zero 2 W',
    idleW: 0.6,
    monitors: MONITORS,
    tamperPin: 17,
    motionPin: 27,
    tilt: TILT,
    temperature: TEMP,
    gps: { path: '/dev/serial0', baudRate: 9600 },
    modem: { path: '/dev/ttyUSB2', baudRate: 115200 },
    camera: { device: '/dev/video0', watts: 1.25 },
    battery: { ...BATTERY, capacityWh: 320 },
    ioPlugin: 'raspi-io',
  },
} as const satisfies Record<string, BoardDefinition>;
export type BoardId = keyof typeof BOARDS;

const check = TypeCompiler.Compile(BoardDefinition);

/** A board definition by id, validated; unknown ids and malformed definitions throw with the reason. */
export function boardDefinition(id: string): BoardDefinition {
  const def = (BOARDS as Record<string, BoardDefinition>)[id];
  if (!def) throw new Error(`unknown board "${id}"; known: ${Object.keys(BOARDS).join(', ')}`);
  if (!check.Check(def)) {
    const e = check.Errors(def).First();
    throw new Error(`board "${id}" is invalid at ${e?.path}: ${e?.message}`);
  }
  return def;
}
