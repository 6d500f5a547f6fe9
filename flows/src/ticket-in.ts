import { checkValue, FLOWS_ROUTES, LeasedEvents, Settlement } from '@shouwang/protocol';
import { batcher } from './batcher.ts';
import type { FleetConfigNode } from './fleet-node.ts';
import { poller } from './poller.ts';
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
    let delivered = 0;

    const { poll, stop } = poller(this, intervalMs, async () => {
      const leased = checkValue(LeasedEvents, await fleet.client.call('POST', FLOWS_ROUTES.lease, { limit, leaseMs }));
      if (!leased.ok) throw new Error(`fleet sent events the protocol refuses at ${leased.error.path}: ${leased.error.message}`);
      for (const e of leased.value.events) this.send({ topic: e.type, seq: e.seq, payload: e });
      this.status({ fill: 'green', shape: 'dot', text: `leased ${leased.value.events.length}, settled ${delivered}` });
    });
    void poll();

    // Settlements that arrive while one call is out go together in the next (up to the contract's
    // 500): under a storm one fleet transaction per batch instead of one per event.
    const settle = batcher<Settlement>(500, async (settlements) => {
      await fleet.client.call('POST', FLOWS_ROUTES.settle, { settlements });
      delivered += settlements.length;
    });

    this.on('input', (msg, _send, done) => {
      const s = checkValue(Settlement, { seq: msg.seq, ...(msg.settlement as object | undefined) });
      if (!s.ok) {
        done(new Error(`cannot settle: ${s.error.path} ${s.error.message}`));
        return;
      }
      settle(s.value).then(
        () => done(),
        (err: unknown) => done(err as Error),
      );
    });
    this.on('close', (closed) => {
      stop();
      closed();
    });
  } as (this: Node, config: never) => void);
}
