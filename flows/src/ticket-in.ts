import { setTimeout as sleep } from 'node:timers/promises';
import { checkValue, FLOWS_ROUTES, LEASE_WAIT_MAX_MS, LeasedEvents, Settlement } from '@shouwang/protocol';
import { batcher } from './batcher.ts';
import type { FleetConfigNode } from './fleet-node.ts';
import { type LaneReport, Lanes } from './lanes.ts';
import type { Node, NodeAPI } from './red.ts';
import { num } from './settings.ts';

interface Config {
  fleet: string;
  intervalS?: string;
  leaseS?: string;
  limit?: string;
  waitS?: string;
}

/**
 * `shouwang ticket in`: leases ticket events from the fleet's outbox and sends one message each
 * (`payload`: the protocol's TicketEvent, `seq`). Wire the delivery's outcome back to its input
 * (`msg.seq` and `msg.settlement`: `{ outcome, reason?, target? }`) to settle it; an event not
 * settled before its lease runs out comes again (at least once).
 *
 * The lease is a long poll: the fleet holds it until events commit (or `waitS` passes), and the
 * next one is asked as soon as it answers, so an event leaves as soon as its ticket commits
 * instead of at the next tick of a poll. At most two leases' worth of events are out at a time
 * per lane: a storm waits in the outbox rather than in Node-RED's memory, where leases would lapse.
 *
 * Every deliver node wired from the output is a lane (see lanes.ts): it gets each event at once, reports
 * with `msg.lane`, and the event is settled when all lanes have; one endpoint stalled fills its
 * own lane and holds none of the others.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang ticket in', function (this: Node, config: Config) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet) {
      this.status({ fill: 'red', shape: 'ring', text: 'no fleet configured' });
      return;
    }
    const retryMs = Math.round(num(config.intervalS, 1, 0.1, 3600) * 1000);
    const leaseMs = Math.round(num(config.leaseS, 60, 1, 3600) * 1000);
    const limit = Math.floor(num(config.limit, 100, 1, 500));
    const waitMs = Math.round(num(config.waitS, 20, 0, LEASE_WAIT_MAX_MS / 1000) * 1000);
    const maxOut = 2 * limit;
    const closing = new AbortController();
    // Only deliver nodes report back: a debug or function node wired beside them is no lane to wait for.
    const wired = (this as Node & { wires?: string[][] }).wires?.[0] ?? [];
    let lanes: Lanes | undefined;
    /** The other nodes exist once the flow runs, not yet while this one is made. */
    const laneSet = () => {
      if (lanes) return lanes;
      lanes = new Lanes(
        wired.filter((id) => (RED.nodes.getNode(id) as { type?: string } | null)?.type === 'shouwang deliver'),
        maxOut,
      );
      return lanes;
    };
    let wake: (() => void) | undefined;
    let delivered = 0;

    const show = (fill: 'green' | 'red', text: string) => this.status({ fill, shape: fill === 'green' ? 'dot' : 'ring', text });
    /** One lease; the number of events it brought (-1: none asked, Node-RED had its fill). */
    const lease = async (): Promise<number> => {
      const now = Date.now();
      // Not asked for before the first answer: the first lease is asked while the flow is still being made.
      lanes?.lapse(now);
      const room = lanes ? lanes.room() : maxOut;
      if (lanes && room === 0) {
        // Every lane full: wait for reports, or the oldest lease to lapse, before asking for more.
        const lapsed = new AbortController();
        const lapse = Math.max(0, lanes.nextLapse() - now);
        await Promise.race([
          new Promise<void>((r) => (wake = r)),
          sleep(lapse, undefined, { signal: AbortSignal.any([lapsed.signal, closing.signal]) }).catch(() => undefined),
        ]);
        lapsed.abort();
        wake = undefined;
        return -1;
      }
      const answer = await fleet.client.call(
        'POST',
        FLOWS_ROUTES.lease,
        { limit: Math.min(limit, room), leaseMs, waitMs },
        { heldMs: waitMs, signal: closing.signal },
      );
      const leased = checkValue(LeasedEvents, answer);
      if (!leased.ok) throw new Error(`fleet sent events the protocol refuses at ${leased.error.path}: ${leased.error.message}`);
      const ls = laneSet();
      for (const e of leased.value.events) {
        const marks = ls.add(e.seq, leased.value.leaseUntil);
        this.send({ topic: e.type, seq: e.seq, payload: e, ...(marks.skip.length + marks.delivered.length > 0 ? { lanes: marks } : {}) });
      }
      show('green', `leased ${leased.value.events.length}, settled ${delivered}`);
      return leased.value.events.length;
    };
    void (async () => {
      while (!closing.signal.aborted) {
        const started = Date.now();
        let pause = 0;
        try {
          // An empty answer sooner than retryMs (no wait asked, or a fleet closing) is not asked again at once.
          if ((await lease()) === 0) pause = retryMs - (Date.now() - started);
        } catch (err) {
          if (closing.signal.aborted) return;
          show('red', (err as Error).message.slice(0, 60));
          this.error(err);
          pause = retryMs;
        }
        if (pause > 0) await sleep(pause, undefined, { signal: closing.signal }).catch(() => undefined);
      }
    })();

    // Settlements that arrive while one call is out go together in the next (up to the contract's
    // 500): under a storm one fleet transaction per batch instead of one per event.
    const settle = batcher<Settlement>(500, async (settlements) => {
      await fleet.client.call('POST', FLOWS_ROUTES.settle, { settlements });
      delivered += settlements.length;
      for (const s of settlements) laneSet().settled(s.seq);
    });

    this.on('input', (msg, _send, done) => {
      const lane = typeof msg.lane === 'string' ? msg.lane : undefined;
      let report: LaneReport;
      if (msg.deferred === true) report = { outcome: 'deferred' };
      else {
        const s = checkValue(Settlement, { seq: msg.seq, ...(msg.settlement as object | undefined) });
        if (!s.ok) {
          done(new Error(`cannot settle: ${s.error.path} ${s.error.message}`));
          return;
        }
        const { seq: _seq, ...r } = s.value;
        report = r;
      }
      const settlement = laneSet().report(Number(msg.seq), lane, report);
      wake?.();
      if (!settlement) {
        done();
        return;
      }
      settle(settlement).then(
        () => done(),
        (err: unknown) => done(err as Error),
      );
    });
    this.on('close', (closed) => {
      closing.abort(new Error('node closed'));
      closed();
    });
  } as (this: Node, config: never) => void);
}
