import mqtt, { type MqttClient } from 'mqtt';
import { FleetClient } from './fleet-client.ts';
import type { Node, NodeAPI } from './red.ts';

export interface FleetConfigNode extends Node {
  client: FleetClient;
  /** The broker connection for the nodes that watch or command units, opened by the first that asks. */
  mqtt(): MqttClient;
}

interface Config {
  url: string;
  timeoutS?: string;
  mqttUrl?: string;
}

/**
 * `shouwang-fleet`: where the fleet and its broker are, the flows token and the broker's service
 * account (credentials, never in the flow file). One broker connection is shared by every node
 * that uses this config node and closed with it.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType(
    'shouwang-fleet',
    function (this: Node, config: Config) {
      RED.nodes.createNode(this, config);
      const timeoutMs = Number(config.timeoutS ?? 10) * 1000 || 10_000;
      const self = this as FleetConfigNode;
      self.client = new FleetClient(config.url, this.credentials?.token ?? '', timeoutMs);
      let client: MqttClient | undefined;
      self.mqtt = () => {
        if (!config.mqttUrl) throw new Error('no broker configured on the fleet node');
        client ??= mqtt.connect(config.mqttUrl, {
          username: this.credentials?.mqttUser ?? '',
          password: this.credentials?.mqttPassword ?? '',
          reconnectPeriod: 1000,
        });
        return client;
      };
      this.on('close', (done) => {
        if (client) client.end(true, {}, () => done());
        else done();
      });
    } as (this: Node, config: never) => void,
    { credentials: { token: { type: 'password' }, mqttUser: { type: 'text' }, mqttPassword: { type: 'password' } } },
  );
}
