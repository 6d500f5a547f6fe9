/**
 * The public surface of @shouwang/hardware. Stable once published: additions only, each announced
 * here. 00:55 additions: SimControl.drive/powerCut/powerRestore/onPower, SimTruth.velocity/powered/sbd,
 * PowerEvent, startSimControlServer/applyFault/Fault (loopback control plane). Issue 17: CameraSource
 * audioInput/encoder, Speaker, BoardHandles.speaker, SimTruth.speaker (PlayedSound), alsaSpeaker.
 * sunElevationDeg (the sky over a place, for the unit's harvest judgement).
 */
export * from './boards/index.ts';
export * from './open-board.ts';
export * from './ports.ts';
export { scaledClock } from './sim/clock.ts';
export { applyFault, Fault, parseFault, type SimControlServer, startSimControlServer } from './sim/control-server.ts';
export { SCENARIOS, type ScenarioName } from './sim/environment.ts';
export { LINK_PROFILES, type LinkProfile, LinkShaper } from './sim/link-shaper.ts';
export type { PowerEvent, SimControl, SimOptions, SimTruth } from './sim/sim-board.ts';
export type { PlayedSound } from './sim/speaker.ts';
export { sunElevationDeg } from './sky.ts';
export { alsaSpeaker } from './speaker.ts';
