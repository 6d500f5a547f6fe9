export { FleetConfig } from './config.ts';
export { applyMessage, emptyUnit, type UnitView } from './domain/unit-state.ts';
export { type Fleet, startFleet } from './fleet.ts';
