import { checkValue, FLOWS_ROUTES, type Result, StatusChange, StatusResult, WorkOrderCallback } from '@shouwang/protocol';
import type { FleetConfigNode } from './fleet-node.ts';
import { fromWorkOrderCallback } from './outside.ts';
import type { Node, NodeAPI } from './red.ts';

/** What the node reads: the protocol's StatusChange, or a 12345 platform's status callback. */
function readChange(from: string | undefined, payload: unknown): Result<StatusChange> {
  if (from !== '12345') return checkValue(StatusChange, payload);
  const c = checkValue(WorkOrderCallback, payload);
  return c.ok ? { ok: true, value: fromWorkOrderCallback(c.value) } : c;
}

/**
 * `shouwang ticket update`: applies an outside status (`payload`: the protocol's StatusChange, or
 * with `from: '12345'` the platform's WorkOrderCallback) to its ticket and sends the fleet's
 * StatusResult on. A refused one ends in `done(err)` (Catch) with `msg.statusCode` and an error
 * `payload` set, so a Catch wired to an `http response` answers the caller with the reason.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang ticket update', function (this: Node, config: { fleet: string; from?: string }) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet) {
      this.status({ fill: 'red', shape: 'ring', text: 'no fleet configured' });
      return;
    }
    this.on('input', (msg, send, done) => {
      const refuse = (statusCode: number, code: string, message: string, path?: string) => {
        msg.statusCode = statusCode;
        msg.payload = { error: { code, message, ...(path ? { path } : {}) } };
        done(new Error(message));
      };
      const change = readChange(config.from, msg.payload);
      if (!change.ok) {
        this.status({ fill: 'red', shape: 'ring', text: `invalid ${change.error.path}` });
        refuse(400, change.error.code, `not a status change: ${change.error.path} ${change.error.message}`, change.error.path);
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
          (err: Error & { status?: number; code?: string }) => {
            this.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 60) });
            // The fleet's 4xx (unknown ticket, a move its state does not allow) is the caller's; our own
            // token refused, or no fleet, is not.
            const st = err.status ?? 502;
            const s = st >= 400 && st < 500 && st !== 401 && st !== 403 ? st : 502;
            refuse(s, err.code ?? 'FLEET_UNREACHABLE', err.message);
          },
        )
        .catch((err: Error) => done(err));
    });
  } as (this: Node, config: never) => void);
}
