/** The agent's public surface, for the dev orchestrator and benches: its config schema and its wiring. */
export { DeviceConfig } from './config.ts';
export { type OpenedBoard, openDeviceBoard } from './services/board.ts';
export { AGENT_VERSION, type DeviceBoard, type RunningDevice, startDevice } from './services/device.ts';
