import { checkValue, FLOWS_ROUTES, type StatusAction, type StatusChange, StatusResult } from '@shouwang/protocol';
import type { FleetConfigNode } from './fleet-node.ts';
import { trackedRequests, untrackRequest } from './open311-requests.ts';
import { poller } from './poller.ts';
import type { Node, NodeAPI } from './red.ts';

interface Config {
  fleet: string;
  url: string;
  intervalS?: string;
  timeoutS?: string;
  jurisdictionId?: string;
}

/** A GeoReport v2 request as `GET /requests/{id}.json` returns it (inside a one-element array). */
interface Open311Request {
  service_request_id?: unknown;
  status?: unknown;
  status_notes?: unknown;
  agency_responsible?: unknown;
}

/**
 * GeoReport v2 knows two statuses, open and closed. A closed request walks its ticket through the
 * moves it has not made (sign for, handle, feedback with the status notes, close): a move the
 * ticket is already past is refused 409 and skipped, a repeat is applied:false, so each poll may
 * walk again until the ticket is closed; then the request is no longer polled.
 */
const WALK: readonly StatusAction[] = ['sign', 'handle', 'feedback', 'close'];

/**
 * `shouwang open311 status`: polls the Open311 endpoint for each service request the flows opened
 * (`GET {endpoint}/requests/{id}.json`) and applies a closure to its ticket. Sends each applied
 * move on (`payload`: StatusResult); an endpoint or fleet that cannot be asked shows on the status
 * and is tried again on the next poll.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang open311 status', function (this: Node, config: Config) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet || !config.url) {
      this.status({ fill: 'red', shape: 'ring', text: fleet ? 'no endpoint configured' : 'no fleet configured' });
      return;
    }
    const intervalMs = Math.max(1000, Number(config.intervalS ?? 60) * 1000 || 60_000);
    const timeoutMs = Math.max(100, Number(config.timeoutS ?? 5) * 1000 || 5000);
    const base = config.url.replace(/\/+$/, '');
    let closed = 0;

    const walk = async (req: Open311Request, ticketId: string): Promise<boolean> => {
      const notes = typeof req.status_notes === 'string' && req.status_notes.trim() ? req.status_notes : 'closed in Open311';
      const actor = typeof req.agency_responsible === 'string' ? req.agency_responsible.slice(0, 200) : undefined;
      for (const action of WALK) {
        const change: StatusChange = {
          ticketId,
          action,
          source: 'open311',
          externalId: String(req.service_request_id),
          ...(actor ? { actor } : {}),
          ...(action === 'feedback' ? { feedback: notes.slice(0, 2000) } : {}),
        };
        try {
          const r = checkValue(StatusResult, await fleet.client.call('POST', FLOWS_ROUTES.status, change));
          if (!r.ok) throw new Error(`fleet answered outside the protocol at ${r.error.path}`);
          if (r.value.applied) this.send({ topic: action, payload: r.value });
          if (action === 'close') return r.value.state === 'closed';
        } catch (err) {
          // Past this move already (or not yet allowed): the next one says which.
          if ((err as { status?: number }).status !== 409) throw err;
          if (action === 'close') return false;
        }
      }
      return false;
    };

    const { poll, stop } = poller(this, intervalMs, async () => {
      const tracked = await trackedRequests(this);
      let open = tracked.length;
      for (const [id, { ticketId }] of tracked) {
        const q = config.jurisdictionId ? `?jurisdiction_id=${encodeURIComponent(config.jurisdictionId)}` : '';
        const res = await fetch(`${base}/requests/${encodeURIComponent(id)}.json${q}`, { signal: AbortSignal.timeout(timeoutMs) });
        if (res.status === 404) {
          await untrackRequest(this, id);
          open--;
          this.warn(`Open311 no longer knows request ${id} (ticket ${ticketId}): not polled any more`);
          continue;
        }
        if (!res.ok) throw new Error(`Open311 answered ${res.status} for request ${id}`);
        const body = (await res.json()) as Open311Request[] | Open311Request;
        const req = Array.isArray(body) ? body[0] : body;
        if (req?.status !== 'closed') continue;
        if (await walk(req, ticketId)) {
          await untrackRequest(this, id);
          open--;
          closed++;
        }
      }
      this.status({ fill: 'green', shape: 'dot', text: `${open} open, ${closed} closed` });
    });
    this.on('input', (_msg, _send, done) => {
      // An inject wired in polls at once.
      poll().then(() => done(), done);
    });
    this.on('close', (done) => {
      stop();
      done();
    });
  } as (this: Node, config: never) => void);
}
