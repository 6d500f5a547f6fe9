/**
 * Test harness vocabulary: `startBroker(t)` runs a real Aedes on 127.0.0.1 and a free port, with an
 * optional password check, and records every PUBLISH it accepts from a unit (`received`).
 * `cut()` kills the listener and every open socket (a link outage); `restore()` listens again on the
 * same port. Cleanup goes through `t.after`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { Aedes } from 'aedes';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  clientId: string;
}

export interface TestBroker {
  port: number;
  url: string;
  broker: Aedes;
  received: Received[];
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** `closeWith: false` leaves closing to the caller (after-hooks run in registration order: close clients first). */
export async function startBroker(t: TestContext, opts: { password?: string; closeWith?: boolean } = {}): Promise<TestBroker> {
  const broker = await Aedes.createBroker({
    authenticate: (_client, _user, password, done) => {
      if (opts.password === undefined || password?.toString() === opts.password) return done(null, true);
      const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
      done(err, false);
    },
  });
  const received: Received[] = [];
  broker.on('publish', (packet, client) => {
    if (client) received.push({ topic: packet.topic, payload: Buffer.from(packet.payload), retain: packet.retain, clientId: client.id });
  });
  const sockets = new Set<Socket>();
  let server: Server = listen();
  function listen(): Server {
    const s = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    return s;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const tb: TestBroker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    received,
    async cut() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async restore() {
      server = listen();
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    close: async () => undefined,
  };
  tb.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
    await new Promise<void>((r) => broker.close(() => r()));
  };
  if (opts.closeWith !== false) t.after(() => tb.close());
  return tb;
}
