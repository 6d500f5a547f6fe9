import { FleetClient } from './fleet-client.ts';
import type { Node, NodeAPI } from './red.ts';

export interface FleetConfigNode extends Node {
  client: FleetClient;
}

/** `shouwang-fleet`: where the fleet is and the flows token it takes (a credential, never in the flow file). */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType(
    'shouwang-fleet',
    function (this: Node, config: { url: string; timeoutS?: string }) {
      RED.nodes.createNode(this, config);
      const timeoutMs = Number(config.timeoutS ?? 10) * 1000 || 10_000;
      (this as FleetConfigNode).client = new FleetClient(config.url, this.credentials.token ?? '', timeoutMs);
    } as (this: Node, config: never) => void,
    { credentials: { token: { type: 'password' } } },
  );
}
