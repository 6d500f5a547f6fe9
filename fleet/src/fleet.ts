import type { Logger } from 'pino';
import { bundleDashboard } from './api/dashboard-bundle.ts';
import { createApi } from './api/server.ts';
import type { FleetConfig } from './config.ts';
import { FleetState } from './services/fleet-state.ts';
import { type MqttIngest, startMqttIngest } from './services/mqtt-ingest.ts';

export interface Fleet {
  state: FleetState;
  ingest: MqttIngest;
  httpPort: number;
  close(): Promise<void>;
}

/** Wires the fleet manager: MQTT ingest → live state → HTTP API, SSE and dashboard. */
export async function startFleet(config: FleetConfig, log: Logger): Promise<Fleet> {
  const state = new FleetState();
  const dashboard = await bundleDashboard();
  const ingest = startMqttIngest(config.mqtt, state, log.child({ module: 'mqtt' }));
  const api = createApi({ state, ingest, dashboard, log });
  await api.listen({ host: config.http.host, port: config.http.port });
  const address = api.server.address();
  return {
    state,
    ingest,
    httpPort: typeof address === 'object' && address ? address.port : config.http.port,
    async close() {
      await api.close();
      await ingest.close();
    },
  };
}
