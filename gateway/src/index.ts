export { type Ingest, QUARANTINE_TOPIC } from './broker.ts';
export { GatewayConfig } from './config.ts';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.ts';
