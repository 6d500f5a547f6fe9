import { createLogger, loadConfig, runService } from '@shouwang/runtime';
import { FleetConfig } from './config.ts';
import { startFleet } from './fleet.ts';

const log = createLogger('fleet');
await runService(log, async () => {
  const fleet = await startFleet(loadConfig(FleetConfig, { prefix: 'SHOUWANG_FLEET' }), log);
  return { info: { httpPort: fleet.httpPort }, close: () => fleet.close() };
});
