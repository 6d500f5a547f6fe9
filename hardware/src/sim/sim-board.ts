import { duplexPair } from 'node:stream';
import type { BoardDefinition } from '../boards.ts';
import type { CameraSource, Clock, SerialLink, UplinkPath } from '../ports.ts';
import { type ModemKind, SimModem } from './at-modem.ts';
import { Environment, SCENARIOS, type ScenarioName, type Weather } from './environment.ts';
import { SimIoPlugin } from './io-plugin.ts';
import { LINK_PROFILES, LinkShaper } from './link-shaper.ts';
import { SimGps } from './nmea-gps.ts';
import { DEFAULT_POWER, PowerModel, type PowerTruth } from './power.ts';

export interface SimOptions {
  unitId: string;
  site: { lat: number; lon: number };
  scenario: ScenarioName;
  link: ModemKind;
  clock: Clock;
  /** Initial state of charge, %. */
  soc?: number;
  seed?: number;
}

/** What the simulator knows to be true, for tests to hold the agent's readings against. */
export interface SimTruth {
  time: number;
  weather: Weather;
  power: PowerTruth;
  position: { lat: number; lon: number; fix: boolean };
  modem: { kind: ModemKind; rssiDbm: number; registered: boolean; radioOn: boolean };
  tamper: boolean;
  motion: boolean;
  tiltDeg: number;
  linkDown: boolean;
  bytesUp: number;
  bytesDown: number;
}

/** Fault injection and the truth; every method acts at once on the running simulation. */
export interface SimControl {
  truth(): SimTruth;
  setSoc(soc: number): void;
  setWeather(w: { cloud?: number; windMps?: number }): void;
  move(lat: number, lon: number): void;
  loseFix(lost: boolean): void;
  tamper(on: boolean): void;
  motion(on: boolean): void;
  tilt(deg: number): void;
  setSignal(rssiDbm: number): void;
  modemSilent(silent: boolean): void;
  serialGarbage(port: 'gps' | 'modem', bytes: string): void;
  /** Cuts the radio path to the gateway for `ms` of real time. */
  linkOutage(ms: number): void;
  /** The monitor at this I²C address stops answering (a loose connector). */
  i2cSilent(address: number, silent: boolean): void;
}

export interface SimBoard {
  gps: SerialLink;
  modem: SerialLink;
  io: SimIoPlugin;
  camera: CameraSource;
  uplink(target: { host: string; port: number }): Promise<UplinkPath>;
  sim: SimControl;
  close(): Promise<void>;
}

/** Physics advance once per simulated second of the injected clock. */
const STEP_MS = 1000;

export function openSimBoard(board: BoardDefinition, o: SimOptions): SimBoard {
  const seed = o.seed ?? hash(o.unitId);
  const env = new Environment(SCENARIOS[o.scenario], o.site, seed);
  const power = new PowerModel(
    { ...DEFAULT_POWER, battery: { cells: board.battery.cells, capacityWh: board.battery.capacityWh } },
    o.soc ?? 80,
  );
  const [gpsAgent, gpsSim] = duplexPair();
  const [modemAgent, modemSim] = duplexPair();
  const gps = new SimGps(gpsSim, o.clock, o.site, seed);
  const modem = new SimModem(modemSim, o.clock, o.link);
  const state = { tamper: false, motion: false, tiltDeg: 2 };
  let weather = env.at(o.clock.now());
  let last = o.clock.now();
  const shapers: LinkShaper[] = [];

  const step = () => {
    const now = o.clock.now();
    weather = env.at(now);
    const loadW = board.idleW + (modem.state.radioOn ? (o.link === 'satellite' ? 1.5 : 2.5) : 0.1);
    power.step((now - last) / 1000, weather, loadW);
    last = now;
  };
  step();
  // The starting charge is a share of what the pack can hold at today's temperature.
  power.setSoc(o.soc ?? 80);
  const ticker = o.clock.setInterval(step, STEP_MS);

  const io = new SimIoPlugin(
    board,
    () => {
      const p = power.truth;
      const net = p.batteryW;
      return {
        monitors: {
          solar: { busV: p.solarW > 0 ? 18.2 : 0.4, currentA: p.solarW / 18.2 },
          wind: { busV: p.windW > 0 ? 14.1 : 0.2, currentA: p.windW / 14.1 },
          battery: { busV: p.batteryV, currentA: net / p.batteryV },
          load: { busV: p.batteryV, currentA: p.loadW / p.batteryV },
        },
        tamper: state.tamper,
        motion: state.motion,
        tiltDeg: state.tiltDeg,
        enclosureTempC: p.batteryTempC,
      };
    },
    o.clock,
  );
  gps.start();

  const sim: SimControl = {
    truth: () => ({
      time: o.clock.now(),
      weather,
      power: power.truth,
      position: { lat: gps.position.lat, lon: gps.position.lon, fix: gps.position.fix },
      modem: { kind: modem.state.kind, rssiDbm: modem.state.rssiDbm, registered: modem.state.registered, radioOn: modem.state.radioOn },
      tamper: state.tamper,
      motion: state.motion,
      tiltDeg: state.tiltDeg,
      linkDown: shapers.some((s) => s.down),
      bytesUp: shapers.reduce((a, s) => a + s.bytesUp, 0),
      bytesDown: shapers.reduce((a, s) => a + s.bytesDown, 0),
    }),
    setSoc: (soc) => power.setSoc(soc),
    setWeather: (w) => env.setWeather(w),
    move: (lat, lon) => gps.move(lat, lon),
    loseFix: (lost) => gps.setFix(!lost),
    tamper: (on) => {
      state.tamper = on;
    },
    motion: (on) => {
      state.motion = on;
    },
    tilt: (deg) => {
      state.tiltDeg = deg;
    },
    setSignal: (rssiDbm) => {
      modem.state.rssiDbm = rssiDbm;
    },
    modemSilent: (silent) => {
      modem.state.silent = silent;
    },
    serialGarbage: (port, bytes) => (port === 'gps' ? gps.injectGarbage(bytes) : modem.injectGarbage(bytes)),
    linkOutage: (ms) => {
      for (const s of shapers) s.outage(ms);
    },
    i2cSilent: (address, silent) => {
      if (silent) io.silentAddresses.add(address);
      else io.silentAddresses.delete(address);
    },
  };

  return {
    gps: { path: board.gps.path, baudRate: board.gps.baudRate, stream: gpsAgent },
    modem: { path: board.modem.path, baudRate: board.modem.baudRate, stream: modemAgent },
    io,
    // ffmpeg's synthetic source stands in for the mast camera: real frames, real encoder, no device.
    camera: { ffmpegInput: ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=10'] },
    async uplink(target) {
      const shaper = new LinkShaper(target, LINK_PROFILES[o.link]);
      shapers.push(shaper);
      return shaper.listen();
    },
    sim,
    async close() {
      o.clock.clearInterval(ticker);
      gps.stop();
      io.close();
      for (const s of [gpsAgent, gpsSim, modemAgent, modemSim]) s.destroy();
      await Promise.all(shapers.map((s) => s.close()));
    },
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
