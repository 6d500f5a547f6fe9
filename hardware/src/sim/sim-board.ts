import { type Duplex, duplexPair } from 'node:stream';
import type { BoardDefinition } from '../boards/index.ts';
import type { CameraSource, Clock, SerialLink, UplinkPath } from '../ports.ts';
import { type ModemKind, SimModem } from './at-modem.ts';
import { Environment, SCENARIOS, type ScenarioName, type Weather } from './environment.ts';
import { SimIoPlugin } from './io-plugin.ts';
import { LINK_PROFILES, LinkShaper } from './link-shaper.ts';
import { SimGps } from './nmea-gps.ts';
import { DEFAULT_POWER, PowerModel, type PowerTruth } from './power.ts';
import { type PlayedSound, SimSpeaker } from './speaker.ts';

export interface SimOptions {
  unitId: string;
  site: { lat: number; lon: number };
  scenario: ScenarioName;
  link: ModemKind;
  /**
   * The uplink's rate, bytes/s, in place of the link profile's (LTE's is 2 MB/s): a thin 4G cell,
   * e.g. 64_000 for 512 kbit/s. The profile's latency stays.
   */
  linkBytesPerSecond?: number;
  clock: Clock;
  /**
   * Simulated seconds per real second of `clock` (default 1). Real receivers and ADCs report on
   * their own fixed rates; at high scales the simulator slows them (as a u-blox CFG-RATE would)
   * so that no stream exceeds ~10 reports per real second and the agent is not flooded.
   */
  timeScale?: number;
  /** Initial state of charge, %. */
  soc?: number;
  /**
   * The simulated world's time (ms since epoch) at open; it then runs on `clock`. Pins the season
   * (sun, GPS date) whatever the host's date, e.g. Date.UTC(2026, 11, 21) for the solstice.
   * Default: the clock's own now. Timers always run on `clock`.
   */
  startTime?: number;
  /**
   * Model the BMS low-voltage disconnect: the board loses supply when the pack is empty and gets it
   * back at 5 % (PowerEvent reasons `battery-empty`/`recharged`). Off by default, because it only
   * makes sense with a harness that kills and restarts the agent on those events; without it the
   * pack sits at 0 % and the agent keeps its readings.
   */
  bmsCutoff?: boolean;
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
  cameraOn: boolean;
  linkDown: boolean;
  bytesUp: number;
  bytesDown: number;
  /** GPS epochs lost because nobody read the serial line. */
  gpsOverruns: number;
  /** Ground velocity while the unit is being moved. */
  velocity: { mps: number; courseDeg: number } | undefined;
  /** Whether the board has supply; false after powerCut() or the pack's low-voltage disconnect. */
  powered: boolean;
  /** Iridium SBD: messages sent by +SBDIX sessions and their bytes (satellite profile only). */
  sbd: { momsn: number; sent: number; bytesSent: number };
  /** What the loudspeaker played (talk-down), oldest first. */
  speaker: readonly PlayedSound[];
}

/**
 * A change of the board's supply. `cut`: the agent's process is dead from this instant (no
 * shutdown, no flush) — a harness kills it with SIGKILL; `restore`: the board boots again and the
 * harness starts the agent afresh. Reasons: `manual` (powerCut/powerRestore), `battery-empty`
 * (the BMS low-voltage disconnect at 0 % usable charge), `recharged` (reconnect at 5 %).
 */
export interface PowerEvent {
  powered: boolean;
  reason: 'manual' | 'battery-empty' | 'recharged';
  time: number;
}

/** Fault injection and the truth; every method acts at once on the running simulation. */
export interface SimControl {
  truth(): SimTruth;
  setSoc(soc: number): void;
  setWeather(w: { cloud?: number; windMps?: number; tempC?: number }): void;
  move(lat: number, lon: number): void;
  /** Tows the unit: speed m/s along a course (° true); 0 stops it. GPS speed, course and position follow. */
  drive(speedMps: number, courseDeg?: number): void;
  loseFix(lost: boolean): void;
  tamper(on: boolean): void;
  motion(on: boolean): void;
  tilt(deg: number): void;
  /** Camera module powered (draws the board's camera watts) or cut. */
  cameraPower(on: boolean): void;
  setSignal(rssiDbm: number): void;
  modemSilent(silent: boolean): void;
  serialGarbage(port: 'gps' | 'modem', bytes: string): void;
  /** The next GPS epoch / modem answer on `port` is cut off part-way. */
  serialTruncate(port: 'gps' | 'modem'): void;
  /** The port closes under the agent (a USB device re-enumerating, a cable pulled); `open()` works again. */
  serialClose(port: 'gps' | 'modem'): void;
  /** The receiver stops writing (a dead module, a broken TX wire) while its port stays open. */
  gpsSilent(silent: boolean): void;
  /** Modem answers go out `ms` late (0 restores). */
  modemDelay(ms: number): void;
  /** `text` goes out on the AT port just before the next answer to `command` (URCs, echoes, a leftover answer). */
  modemStray(command: string, text: string): void;
  /** `command` is answered with its final result code only, without its information line. */
  modemBare(command: string, bare: boolean): void;
  /** Cuts the radio path to the gateway for `ms` of real time. */
  linkOutage(ms: number): void;
  /** The panel's lead is off the charge controller (a connector kicked loose at the drop): no solar harvest, the monitor still answers. */
  panelUnplugged(unplugged: boolean): void;
  /** The monitor at this I²C address stops answering (a loose connector). */
  i2cSilent(address: number, silent: boolean): void;
  /** Cuts the board's supply (a pulled fuse, a thief at the connector); see PowerEvent for what the harness does. */
  powerCut(): void;
  powerRestore(): void;
  /** Subscribes to supply changes (manual and the pack's own disconnect); returns the unsubscribe. */
  onPower(listener: (e: PowerEvent) => void): () => void;
}

export interface SimBoard {
  gps: SerialLink;
  modem: SerialLink;
  io: SimIoPlugin;
  camera: CameraSource;
  speaker: SimSpeaker;
  uplink(target: { host: string; port: number }): Promise<UplinkPath>;
  sim: SimControl;
  close(): Promise<void>;
}

/** Physics integrate in steps of at most a simulated minute, lazily, whenever anything looks. */
const MAX_STEP_MS = 60_000;
/** ~10 reports per real second is as fast as any stream runs, whatever the time scale. */
const MAX_REPORTS_PER_REAL_S = 10;
/** Module draw, W: LTE Cat-4 connected ~2.5 W (stack-notes 2–3 W), Iridium 9603 ~1.5 W averaged, radio off ~0.1 W. */
const MODEM_W = { cellular: 2.5, satellite: 1.5, off: 0.1 } as const;
/** The BMS reconnects the load once the harvest has refilled this much of the pack, %. */
const RECONNECT_SOC = 5;

export function openSimBoard(board: BoardDefinition, opts: SimOptions): SimBoard {
  const o = { ...opts, clock: worldClock(opts.clock, opts.startTime) };
  const seed = o.seed ?? hash(o.unitId);
  const scale = Math.max(1, o.timeScale ?? 1);
  const env = new Environment(SCENARIOS[o.scenario], o.site, seed);
  const power = new PowerModel(
    { ...DEFAULT_POWER, battery: { cells: board.battery.cells, capacityWh: board.battery.capacityWh } },
    o.soc ?? 80,
  );
  const gpsLine = simSerial(board.gps);
  const modemLine = simSerial(board.modem);
  const gps = new SimGps(gpsLine.device, o.clock, o.site, seed, Math.max(1000, (scale * 1000) / MAX_REPORTS_PER_REAL_S));
  const modem = new SimModem(modemLine.device, o.clock, o.link);
  gpsLine.onReopen = (device) => gps.connect(device);
  modemLine.onReopen = (device) => modem.connect(device);
  let gpsSilent = false;
  const state = {
    tamper: false,
    motion: false,
    tiltDeg: 2,
    cameraOn: true,
    powered: true,
    cutReason: 'manual' as PowerEvent['reason'],
    panelUnplugged: false,
  };
  const powerListeners = new Set<(e: PowerEvent) => void>();
  let last = o.clock.now();
  let weather = env.at(last);
  const shapers: LinkShaper[] = [];
  const speaker = new SimSpeaker(o.clock);
  modem.onAttachChange = (attached) => {
    for (const s of shapers) s.setCarrier(attached);
  };

  /** What the box dissipates inside (board and modem); the camera sits up the mast. */
  const insideW = () =>
    !state.powered ? 0 : board.idleW + (!modem.state.radioOn ? MODEM_W.off : o.link === 'satellite' ? MODEM_W.satellite : MODEM_W.cellular);
  const loadW = () => insideW() + (state.powered && state.cameraOn ? board.camera.watts : 0);

  const setPowered = (on: boolean, reason: PowerEvent['reason'], t: number) => {
    if (state.powered === on) return;
    state.powered = on;
    state.cutReason = reason;
    gps.setPowered(on && !gpsSilent);
    modem.setPowered(on);
    io.powered = on;
    // Delivered on microtasks, outside the physics step: a listener may close the board from inside it.
    for (const l of [...powerListeners]) queueMicrotask(() => l({ powered: on, reason, time: t }));
  };

  /** Brings weather and the pack up to the clock's now, in sub-steps so the sun's arc is followed. */
  const advance = () => {
    const now = o.clock.now();
    while (last < now) {
      const t = Math.min(now, last + MAX_STEP_MS);
      weather = env.at(t);
      const p = power.step((t - last) / 1000, state.panelUnplugged ? { ...weather, irradiance: 0 } : weather, loadW(), insideW());
      last = t;
      if (!o.bmsCutoff) continue;
      if (state.powered && p.storedWh <= 0) setPowered(false, 'battery-empty', t);
      else if (!state.powered && state.cutReason !== 'manual' && p.soc >= RECONNECT_SOC) setPowered(true, 'recharged', t);
    }
  };
  /** Re-reads the load into the truth at once after a switch (camera, supply), without advancing time. */
  const settle = () => power.step(0, weather, loadW(), insideW());
  settle();
  // The starting charge is a share of what the pack can hold at today's temperature.
  power.setSoc(o.soc ?? 80);
  const ticker = o.clock.setInterval(advance, MAX_STEP_MS);

  const io = new SimIoPlugin(
    board,
    () => {
      advance();
      const p = power.truth;
      return {
        monitors: {
          // The monitors sit on the charge controllers' inputs: panel near its MPP voltage, rectified turbine output.
          solar: { busV: p.solarW > 0 ? 18.2 : 0.4, currentA: p.solarW / 18.2 },
          wind: { busV: p.windW > 0 ? 14.1 : 0.2, currentA: p.windW / 14.1 },
          battery: { busV: p.batteryV, currentA: p.batteryW / p.batteryV },
          load: { busV: p.batteryV, currentA: p.loadW / p.batteryV },
        },
        tamper: state.tamper,
        motion: state.motion,
        tiltDeg: state.tiltDeg,
        enclosureTempC: p.batteryTempC,
      };
    },
    o.clock,
    Math.max(100, (scale * 1000) / MAX_REPORTS_PER_REAL_S),
  );
  gps.start();

  const sim: SimControl = {
    truth: () => {
      advance();
      return {
        time: o.clock.now(),
        weather,
        power: power.truth,
        position: { lat: gps.position.lat, lon: gps.position.lon, fix: gps.position.fix },
        modem: { kind: modem.state.kind, rssiDbm: modem.state.rssiDbm, registered: modem.attached, radioOn: modem.state.radioOn },
        tamper: state.tamper,
        motion: state.motion,
        tiltDeg: state.tiltDeg,
        cameraOn: state.cameraOn,
        linkDown: shapers.some((s) => s.down),
        bytesUp: shapers.reduce((a, s) => a + s.bytesUp, 0),
        bytesDown: shapers.reduce((a, s) => a + s.bytesDown, 0),
        gpsOverruns: gps.overruns,
        velocity: gps.velocity,
        powered: state.powered,
        sbd: { momsn: modem.sbd.momsn, sent: modem.sbd.sent.length, bytesSent: modem.sbd.bytesSent },
        speaker: [...speaker.played],
      };
    },
    setSoc: (soc) => {
      advance();
      power.setSoc(soc);
    },
    setWeather: (w) => {
      advance();
      env.setWeather(w, last);
      weather = env.at(last);
    },
    move: (lat, lon) => gps.move(lat, lon),
    drive: (speedMps, courseDeg = 0) => gps.drive(speedMps, courseDeg),
    loseFix: (lost) => gps.setFix(!lost),
    tamper: (on) => {
      state.tamper = on;
      io.refresh();
    },
    motion: (on) => {
      state.motion = on;
      io.refresh();
    },
    tilt: (deg) => {
      state.tiltDeg = deg;
    },
    cameraPower: (on) => {
      advance();
      state.cameraOn = on;
      settle();
    },
    setSignal: (rssiDbm) => {
      modem.state.rssiDbm = rssiDbm;
      modem.stateChanged();
    },
    modemSilent: (silent) => {
      modem.state.silent = silent;
    },
    serialGarbage: (port, bytes) => (port === 'gps' ? gps.injectGarbage(bytes) : modem.injectGarbage(bytes)),
    serialTruncate: (port) => (port === 'gps' ? gps.truncateNext() : modem.truncateNext()),
    serialClose: (port) => (port === 'gps' ? gpsLine : modemLine).close(),
    gpsSilent: (silent) => {
      gpsSilent = silent;
      gps.setPowered(state.powered && !silent);
    },
    modemDelay: (ms) => modem.delayAnswers(ms),
    modemStray: (command, text) => modem.strayBefore(command, text),
    modemBare: (command, bare) => modem.answerBare(command, bare),
    linkOutage: (ms) => {
      for (const s of shapers) s.outage(ms);
    },
    panelUnplugged: (unplugged) => {
      advance();
      state.panelUnplugged = unplugged;
    },
    i2cSilent: (address, silent) => {
      if (silent) io.silentAddresses.add(address);
      else io.silentAddresses.delete(address);
    },
    powerCut: () => {
      advance();
      setPowered(false, 'manual', last);
      settle();
    },
    powerRestore: () => {
      advance();
      setPowered(true, 'manual', last);
      settle();
    },
    onPower: (listener) => {
      powerListeners.add(listener);
      return () => powerListeners.delete(listener);
    },
  };

  return {
    gps: gpsLine.link,
    modem: modemLine.link,
    io,
    // ffmpeg's synthetic sources stand in for the mast camera and microphone: real frames and sound,
    // real encoders, no device; paced in real time (-re) as a camera delivers them. No VideoCore here: libx264.
    camera: {
      ffmpegInput: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15'],
      audioInput: ['-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000'],
      encoder: 'libx264',
    },
    speaker,
    async uplink(target) {
      const base = LINK_PROFILES[o.link];
      const shaper = new LinkShaper(target, o.linkBytesPerSecond ? { ...base, bytesPerSecond: o.linkBytesPerSecond } : base);
      shaper.setCarrier(modem.attached);
      shapers.push(shaper);
      return shaper.listen();
    },
    sim,
    async close() {
      o.clock.clearInterval(ticker);
      powerListeners.clear();
      gps.stop();
      io.close();
      gpsLine.close();
      modemLine.close();
      await Promise.all(shapers.map((s) => s.close()));
    },
  };
}

/**
 * A simulated serial line: an in-memory duplex pair between the agent's end (`link`) and the
 * device's. Closing it ends the agent's stream as a vanished USB device does; `open()` then gives
 * a fresh pair and hands the device its new end.
 */
interface SimSerial {
  /** The device's end (the simulated receiver or modem writes and reads here). */
  device: Duplex;
  /** Told the device's new end when the agent opens the line again. */
  onReopen: ((device: Duplex) => void) | undefined;
  link: SerialLink;
  close(): void;
}

function simSerial(port: { path: string; baudRate: number }): SimSerial {
  let [agent, device] = duplexPair();
  const close = () => {
    agent.destroy();
    device.destroy();
  };
  const line: SimSerial = {
    device,
    onReopen: undefined,
    link: {
      ...port,
      get stream() {
        return agent;
      },
      open: async () => {
        if (agent.destroyed) {
          [agent, device] = duplexPair();
          line.device = device;
          line.onReopen?.(device);
        }
        return agent;
      },
      close: async () => close(),
    },
    close,
  };
  return line;
}

/** `clock`, with now() shifted so that it reads `startTime` at this instant. */
function worldClock(clock: Clock, startTime: number | undefined): Clock {
  if (startTime === undefined) return clock;
  const offset = startTime - clock.now();
  return {
    now: () => clock.now() + offset,
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (h) => clock.clearTimeout(h),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (h) => clock.clearInterval(h),
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
