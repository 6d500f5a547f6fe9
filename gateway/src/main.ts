import './mqtt-packet-debug-off.ts';
import { createLogger, loadConfig, runService } from '@shouwang/runtime';
import { GatewayConfig } from './config.ts';
import { createGateway } from './gateway.ts';

const log = createLogger('gateway');
await runService(log, async () => {
  const config = loadConfig(GatewayConfig, { prefix: 'SHOUWANG_GATEWAY' });
  const gateway = createGateway({ config, log });
  const ports = await gateway.listen();
  return { info: { ...ports, host: config.mqtt.host }, close: () => gateway.close() };
});
