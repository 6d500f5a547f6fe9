export * from './boards.ts';
export * from './open-board.ts';
export * from './ports.ts';
export { scaledClock } from './sim/clock.ts';
export { SCENARIOS, type ScenarioName } from './sim/environment.ts';
export type { SimControl, SimOptions, SimTruth } from './sim/sim-board.ts';
