export { startInfluxd } from './influxd.ts';
export { startPostgres } from './postgres.ts';
export { type Cleanup, defer, freePort, stopper, waitUntil } from './process.ts';
export { startRedis } from './redis.ts';
export { readServiceUnit } from './service-unit.ts';
