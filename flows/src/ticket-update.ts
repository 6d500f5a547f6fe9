import { checkValue, FLOWS_ROUTES, StatusChange, StatusResult } from '@shouwang/protocol';
import type { FleetConfigNode } from './fleet-node.ts';
import type { Node, NodeAPI } from './red.ts';

/**
 * `shouwang ticket update`: applies an outside status (`payload`: the protocol's StatusChange) to
 * its ticket and sends the fleet's StatusResult on; a refused one ends in `done(err)` (Catch).
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang ticket update', function (this: Node, config: { fleet: string }) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet) {
      this.status({ fill: 'red', shape: 'ring', text: 'no fleet configured' });
      return;
    }
    this.on('input', (msg, send, done) => {
      const change = checkValue(StatusChange, msg.payload);
      if (!change.ok) {
        this.status({ fill: 'red', shape: 'ring', text: `invalid ${change.error.path}` });
        done(new Error(`not a status change: ${change.error.path} ${change.error.message}`));
        return;
      }
      fleet.client
        .call('POST', FLOWS_ROUTES.status, change.value)
        .then(
          (body) => {
            const r = checkValue(StatusResult, body);
            if (!r.ok) throw new Error(`fleet answered outside the protocol at ${r.error.path}`);
            this.status({
              fill: 'green',
              shape: 'dot',
              text: `${r.value.ticketId.slice(0, 8)} ${r.value.state}${r.value.applied ? '' : ' (repeat)'}`,
            });
            send({ ...msg, payload: r.value });
            done();
          },
          (err: Error) => {
            this.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 60) });
            done(err);
          },
        )
        .catch((err: Error) => done(err));
    });
  } as (this: Node, config: never) => void);
}
