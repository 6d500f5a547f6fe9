import { setTimeout as sleep } from 'node:timers/promises';
import { checkValue, type Settlement, TicketEvent, WorkOrder } from '@shouwang/protocol';
import type { LaneMarks } from './lanes.ts';
import { requestTracker } from './open311-requests.ts';
import { backoffMs, open311Request, type Verdict, verdict, workOrder, workOrderKey } from './outside.ts';
import { type OutsidePost, outsideHttp } from './outside-http.ts';
import type { Node, NodeAPI, NodeMessage } from './red.ts';
import { num } from './settings.ts';

export const TARGETS = ['12345', 'open311'] as const;
type Target = (typeof TARGETS)[number];

interface Config {
  target: Target;
  url: string;
  timeoutS?: string;
  tries?: string;
  backoffMs?: string;
  /** After this many leases of one event, a transient failure is a refusal: the event stops coming back. */
  maxLeases?: string;
  mediaBase?: string;
  /** Connections kept open to the endpoint; deliveries beyond them wait for one. */
  connections?: string;
  jurisdictionId?: string;
  /** JSON: ticket category → Open311 service code, `*` for the rest. */
  serviceCodes?: string;
}

/**
 * `shouwang deliver`: sends a ticket event (from `shouwang ticket in`) to one outside system and
 * says how it went in `msg.settlement`, for the next deliver node or for `ticket in` to settle.
 * Tries a few times with backoff in place; what is still failing after that is left unsettled, so
 * the lease lapses and the event comes again (at least once, across restarts); the endpoint's
 * idempotency (the episode key, a 409 for a repeat) makes that exactly one outside order. A
 * refusal for good goes on with `{ outcome: 'dead-letter', reason, target }`. Retries live here,
 * not in stock nodes, so they are code with tests rather than wiring that a flow edit can break.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType(
    'shouwang deliver',
    function (this: Node, config: Config) {
      RED.nodes.createNode(this, config);
      const target = config.target;
      if (!TARGETS.includes(target) || !config.url) {
        this.status({ fill: 'red', shape: 'ring', text: !config.url ? 'no endpoint configured' : `unknown target ${target}` });
        this.on('input', (_msg, _send, done) => done(new Error(`shouwang deliver: no ${config.url ? 'target' : 'endpoint'} configured`)));
        return;
      }
      const timeoutMs = num(config.timeoutS, 5, 0.1, 120) * 1000;
      const tries = num(config.tries, 3, 1, 10);
      const baseMs = num(config.backoffMs, 500, 0, 60_000);
      const maxLeases = num(config.maxLeases, 20, 1, 1000);
      const connections = num(config.connections, 64, 1, 256);
      let serviceCodes: Record<string, string> = { '*': 'shouwang-alarm' };
      try {
        if (config.serviceCodes) serviceCodes = JSON.parse(config.serviceCodes) as Record<string, string>;
      } catch {
        this.status({ fill: 'red', shape: 'ring', text: 'service codes are not JSON' });
      }
      const track = requestTracker(this);
      const closing = new AbortController();
      const outside = outsideHttp(connections);
      const counts = { delivered: 0, duplicates: 0, dead: 0, deferred: 0 };
      const show = (fill: 'green' | 'yellow' | 'red') =>
        this.status({
          fill,
          shape: 'dot',
          text: `${counts.delivered} delivered, ${counts.duplicates} repeats, ${counts.dead} dead, ${counts.deferred} deferred`,
        });

      const creds = this.credentials ?? {};
      /**
       * The request for this target, or why the event cannot make one the protocol allows; throws
       * only on a bug or a config the event cannot meet.
       */
      const request = (e: TicketEvent): OutsidePost | { outside: string } => {
        if (target === '12345') {
          const w = checkValue(WorkOrder, workOrder(e, config.mediaBase ?? ''));
          if (!w.ok) return { outside: `work order outside the protocol at ${w.error.path}: ${w.error.message}` };
          return {
            url: config.url,
            headers: {
              'content-type': 'application/json',
              'idempotency-key': workOrderKey(e),
              ...(creds.token ? { authorization: `Bearer ${creds.token}` } : {}),
            },
            body: JSON.stringify(w.value),
          };
        }
        return {
          url: `${config.url.replace(/\/+$/, '')}/requests.json`,
          headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
          body: open311Request(e, {
            jurisdictionId: config.jurisdictionId ?? '',
            serviceCodes,
            mediaBase: config.mediaBase ?? '',
            apiKey: creds.apiKey ?? '',
          }).toString(),
        };
      };

      /** One try; no answer (time-out, refused connection, reset) is transient. */
      const post = async (r: OutsidePost): Promise<{ v: Verdict; body: string }> => {
        try {
          const a = await outside.post(r, timeoutMs);
          return { v: verdict(a.status, a.body, a.retryAfter), body: a.body };
        } catch (err) {
          if (closing.signal.aborted) throw err;
          return { v: { kind: 'retry', reason: `no answer: ${(err as Error).message}`, afterMs: undefined }, body: '' };
        }
      };

      /** The verdict after at most `tries` tries, waiting with backoff (or the answer's Retry-After) between them. */
      const attempt = async (r: OutsidePost): Promise<{ v: Verdict; body: string }> => {
        for (let i = 0; ; i++) {
          const out = await post(r);
          if (out.v.kind !== 'retry' || i + 1 >= tries) return out;
          await sleep(Math.max(out.v.afterMs ?? 0, backoffMs(i, baseMs, 30_000)), undefined, { signal: closing.signal });
        }
      };

      this.on('input', (msg, send, done) => {
        const settled = msg.settlement as Settlement | undefined;
        // An earlier target in a chain refused it for good or deferred it: that stands whatever this one says.
        if (settled?.outcome === 'dead-letter' || msg.deferred === true) {
          send(msg);
          done();
          return;
        }
        // Reports name the lane `ticket in` sent the event on: this node, or the first of a chain.
        const lane = typeof msg.lane === 'string' ? msg.lane : this.id;
        const marks = msg.lanes as LaneMarks | undefined;
        if (marks?.delivered.includes(this.id)) {
          send({ ...msg, lane, settlement: settled ?? { outcome: 'delivered' } });
          done();
          return;
        }
        if (marks?.skip.includes(this.id)) {
          counts.deferred++;
          show('red');
          send({ ...msg, lane, deferred: true });
          done();
          return;
        }
        const ev = checkValue(TicketEvent, msg.payload);
        if (!ev.ok) {
          done(new Error(`not a ticket event: ${ev.error.path} ${ev.error.message}`));
          return;
        }
        const e = ev.value;
        const pass = (out: NodeMessage) => {
          send({ ...out, lane });
          done();
        };
        const deadLetter = (reason: string) => {
          counts.dead++;
          show('yellow');
          pass({ ...msg, settlement: { outcome: 'dead-letter', reason: reason.slice(0, 2000), target } });
        };
        // GeoReport v2 has no operation that updates a request: Open311 gets the creation only.
        if (target === 'open311' && e.type !== 'ticket.created') {
          pass({ ...msg, settlement: settled ?? { outcome: 'delivered' } });
          return;
        }
        let r: ReturnType<typeof request>;
        try {
          r = request(e);
        } catch (err) {
          done(err as Error);
          return;
        }
        if ('outside' in r) {
          deadLetter(r.outside);
          return;
        }
        attempt(r)
          .then(
            async ({ v, body }) => {
              if (v.kind === 'delivered') {
                counts[v.duplicate ? 'duplicates' : 'delivered']++;
                // Kept before the settlement goes on: a request settled is a request polled.
                const opened = target === 'open311' ? serviceRequestId(body) : undefined;
                if (opened) await track(opened, { ticketId: e.ticket.id, at: e.at });
                show('green');
                pass({
                  ...msg,
                  settlement: settled ?? { outcome: 'delivered' },
                  [target === '12345' ? 'workOrder' : 'open311']: answerOf(body),
                });
              } else if (v.kind === 'refused') deadLetter(`${target} refused: ${v.reason}`);
              else if (e.attempts + 1 >= maxLeases)
                deadLetter(`${target} failed ${e.attempts + 1} leases of ${tries} tries; last: ${v.reason}`);
              else {
                counts.deferred++;
                show('red');
                send({ ...msg, lane, deferred: true });
                done(new Error(`${target}: ${v.reason}; left for the next lease (${e.attempts + 1} of ${maxLeases})`));
              }
            },
            (err: Error) => done(err),
          )
          .catch((err: Error) => done(err));
      });
      this.on('close', (closed) => {
        closing.abort(new Error('node closed'));
        outside.close();
        closed();
      });
    } as (this: Node, config: never) => void,
    { credentials: { token: { type: 'password' }, apiKey: { type: 'password' } } },
  );
}

/** GeoReport v2 answers a POST with `[{ service_request_id, service_notice? }]` (or a `token` to look it up later). */
function serviceRequestId(body: string): string | undefined {
  const a = answerOf(body);
  const id = Array.isArray(a) ? (a[0] as { service_request_id?: unknown } | undefined)?.service_request_id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function answerOf(body: string): unknown {
  try {
    return body ? JSON.parse(body) : null;
  } catch {
    return body.slice(0, 500);
  }
}
