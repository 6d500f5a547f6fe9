export { startInfluxd } from './influxd.ts';
export { type PostgresOptions, startPostgres } from './postgres.ts';
export { type Cleanup, defer, freePort, stopper, waitUntil } from './process.ts';
export { startRedis } from './redis.ts';
export { readServiceUnit, type ServiceUnit } from './service-unit.ts';
