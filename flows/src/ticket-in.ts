import { checkValue, FLOWS_ROUTES, LeasedEvents, Settlement } from '@shouwang/protocol';
import type { FleetConfigNode } from './fleet-node.ts';
import type { Node, NodeAPI } from './red.ts';

interface Config {
  fleet: string;
  intervalS?: string;
  leaseS?: string;
  limit?: string;
}

/**
 * `shouwang ticket in`: leases ticket events from the fleet's outbox and sends one message each
 * (`payload`: the protocol's TicketEvent, `seq`). Wire the delivery's outcome back to its input
 * (`msg.seq` and `msg.settlement`: `{ outcome, reason?, target? }`) to settle it; an event not
 * settled before its lease runs out comes again (at least once).
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang ticket in', function (this: Node, config: Config) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet) {
      this.status({ fill: 'red', shape: 'ring', text: 'no fleet configured' });
      return;
    }
    const intervalMs = Math.max(100, Number(config.intervalS ?? 1) * 1000 || 1000);
    const leaseMs = Math.max(1000, Number(config.leaseS ?? 60) * 1000 || 60_000);
    const limit = Math.min(500, Math.max(1, Number(config.limit ?? 100) || 100));
    let polling = false;
    let delivered = 0;

    const poll = async () => {
      if (polling) return;
      polling = true;
      try {
        const leased = checkValue(LeasedEvents, await fleet.client.call('POST', FLOWS_ROUTES.lease, { limit, leaseMs }));
        if (!leased.ok) throw new Error(`fleet sent events the protocol refuses at ${leased.error.path}: ${leased.error.message}`);
        for (const e of leased.value.events) this.send({ topic: e.type, seq: e.seq, payload: e });
        this.status({ fill: 'green', shape: 'dot', text: `leased ${leased.value.events.length}, settled ${delivered}` });
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        this.error(err);
      } finally {
        polling = false;
      }
    };
    const timer = setInterval(() => void poll(), intervalMs);
    void poll();

    this.on('input', (msg, _send, done) => {
      const s = checkValue(Settlement, { seq: msg.seq, ...(msg.settlement as object | undefined) });
      if (!s.ok) {
        done(new Error(`cannot settle: ${s.error.path} ${s.error.message}`));
        return;
      }
      fleet.client.call('POST', FLOWS_ROUTES.settle, { settlements: [s.value] }).then(
        () => {
          delivered++;
          done();
        },
        (err: Error) => done(err),
      );
    });
    this.on('close', (closed) => {
      clearInterval(timer);
      closed();
    });
  } as (this: Node, config: never) => void);
}
