import type { FastifyReply, FastifyRequest } from 'fastify';

/** Comment lines keep proxies and the browser from closing an idle stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * A Server-Sent Events response taken over from Fastify: `send(event, data)` writes one event;
 * every KEEP_ALIVE_MS `beat` runs (by default a comment line); `onClose` runs when the client goes.
 */
export function openSse(
  req: FastifyRequest,
  reply: FastifyReply,
  beat?: () => void,
): { send(event: string, data: unknown): void; onClose(f: () => void): void } {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const ping = setInterval(beat ?? (() => res.write(': keep-alive\n\n')), KEEP_ALIVE_MS);
  const closers: (() => void)[] = [() => clearInterval(ping)];
  req.raw.on('close', () => {
    for (const f of closers) f();
  });
  return {
    send: (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    onClose: (f) => closers.push(f),
  };
}
