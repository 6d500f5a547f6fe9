import { type Static, Type } from '@sinclair/typebox';

/**
 * The shape of a board definition. Definitions are data: which chips sit where, which pins mean
 * what, which serial ports lead to the GPS and the modem. The agent reads them; nothing branches
 * on a board's name. Field names match the device's `SensorMap` structurally (monitors, tamperPin,
 * motionPin, tilt, temperature), so a definition can be handed to the sensor service as it is.
 */
const Monitor = Type.Object({
  name: Type.Union([Type.Literal('solar'), Type.Literal('wind'), Type.Literal('battery'), Type.Literal('load')]),
  chip: Type.Union([Type.Literal('ina219'), Type.Literal('ina226')]),
  // INA219 SBOS448 §8.5.5.1 and INA226 SBOS547 §7.5.5.1: A0/A1 strapping gives 0x40–0x4F.
  address: Type.Integer({ minimum: 0x40, maximum: 0x4f, description: 'INA219/INA226 7-bit address, 0x40–0x4F' }),
  shuntOhms: Type.Number({ exclusiveMinimum: 0 }),
});
const Analog = Type.Object(
  { pin: Type.String(), scale: Type.Number(), offset: Type.Number() },
  { description: 'An ADC channel: physical value = raw × scale + offset (10-bit raw, 0–1023)' },
);
const Serial = Type.Object({ path: Type.String({ minLength: 1 }), baudRate: Type.Integer({ minimum: 1200 }) });

export const BoardDefinition = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9-]+$' }),
  name: Type.String(),
  /** Idle draw of the board itself, W (stack-notes: Pi 4 ≈ 3.1 W, Zero 2 W ≈ 0.6 W). */
  idleW: Type.Number({ minimum: 0 }),
  /** Linux I²C adapter the power monitors hang off (/dev/i2c-<bus>). */
  i2cBus: Type.Integer({ minimum: 0 }),
  monitors: Type.Array(Monitor, { minItems: 1 }),
  /** Digital inputs (BCM GPIO numbers): enclosure tamper switch and PIR motion sensor. */
  tamperPin: Type.Integer({ minimum: 0 }),
  motionPin: Type.Integer({ minimum: 0 }),
  /** Mast tilt (degrees) and enclosure/battery temperature (°C), through an ADC. */
  tilt: Analog,
  temperature: Analog,
  gps: Serial,
  modem: Serial,
  camera: Type.Object({
    device: Type.String(),
    watts: Type.Number({ minimum: 0 }),
    /** ALSA capture and playback devices (the mast's microphone, the enclosure's loudspeaker). */
    microphone: Type.Optional(Type.String({ minLength: 1 })),
    speaker: Type.Optional(Type.String({ minLength: 1 })),
  }),
  /**
   * The SoC's hardware H.264 encoder as ffmpeg names it (BCM2711 on a Pi 4/CM4 and BCM2710 on a
   * Zero 2 W expose theirs through V4L2 M2M); absent on a SoC without one (a Pi 5): libx264.
   */
  h264Encoder: Type.Optional(Type.Literal('h264_v4l2m2m')),
  battery: Type.Object({
    chemistry: Type.Literal('lifepo4'),
    cells: Type.Integer({ minimum: 1 }),
    capacityWh: Type.Number({ exclusiveMinimum: 0 }),
  }),
  /**
   * The johnny-five IO plugin for the real board, loaded by dynamic import only in real mode:
   * npm package and the export holding the plugin class (`default` for a default export).
   */
  ioPlugin: Type.Object({ package: Type.String({ minLength: 1 }), export: Type.String({ minLength: 1 }) }),
});
export type BoardDefinition = Static<typeof BoardDefinition>;
