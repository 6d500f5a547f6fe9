import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  body: string;
  retryAfter: string | null;
}

export interface OutsidePost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * POSTs to one outside system over a few kept-alive connections. A storm's hundreds of deliveries
 * queue for `maxSockets` connections instead of opening one each (the socket set-up costs both
 * sides CPU the deliveries need, and a city endpoint may limit connections per client); node:http
 * rather than fetch, whose WHATWG streams cost several times the CPU per small request. The
 * time-out counts from when the request has a connection, so waiting in the queue is not charged
 * to the endpoint. `close()` aborts what is in flight.
 */
export function outsideHttp(maxSockets: number): { post(p: OutsidePost, timeoutMs: number): Promise<Answer>; close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  // Destroyed on close; one set rather than an AbortSignal per request (its listeners cost a storm CPU).
  const inFlight = new Set<http.ClientRequest>();
  let closed = false;
  // A storm's posts wait here, as plain closures, for one of the connections: a request made only
  // when it can go costs no ClientRequest, headers and agent bookkeeping while it waits.
  const waiting: (() => void)[] = [];
  let active = 0;
  const post = (p: OutsidePost, timeoutMs: number) =>
    new Promise<Answer>((resolve, reject) => {
      const go = () => {
        active++;
        send(p, timeoutMs)
          .then(resolve, reject)
          .finally(() => {
            active--;
            waiting.shift()?.();
          });
      };
      if (active < maxSockets) go();
      else waiting.push(go);
    });
  const send = (p: OutsidePost, timeoutMs: number) =>
    new Promise<Answer>((resolve, reject) => {
      const url = new URL(p.url);
      const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined;
      if (!agent) return reject(new Error(`not an http(s) URL: ${p.url}`));
      if (closed) return reject(new Error('node closed'));
      const request = url.protocol === 'https:' ? https.request : http.request;
      const req = request(url, {
        method: 'POST',
        agent,
        headers: { ...p.headers, 'content-length': String(Buffer.byteLength(p.body)) },
      });
      let timer: NodeJS.Timeout | undefined;
      req.once('socket', () => {
        timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      inFlight.add(req);
      req.once('close', () => {
        clearTimeout(timer);
        inFlight.delete(req);
      });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: retryAfter ?? null });
        });
      });
      req.end(p.body);
    });
  return {
    post,
    close() {
      closed = true;
      // Each refuses at once now that the node is closed.
      for (const go of waiting.splice(0)) go();
      for (const req of inFlight) req.destroy(new Error('node closed'));
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
