import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { type Packet, parser } from 'mqtt-packet';

/**
 * A TCP proxy in front of a broker that reads the MQTT packets going both ways (forwarding the
 * bytes untouched, with the sockets' own backpressure): it counts the PUBLISH packets the broker
 * sent each client, and can cut a client's connection at its next PUBACK, before the broker sees
 * it — as when the fleet dies after its commit and before its acknowledgement leaves the host.
 */
export interface MqttProxy {
  url: string;
  /** PUBLISH packets the broker sent through the proxy to `clientId` (all its connections). */
  publishedTo(clientId: string): number;
  /** Resolves once `clientId` sent a PUBACK and its connection was cut instead (the PUBACK not forwarded). */
  cutAtNextPuback(clientId: string): Promise<void>;
  /** Cuts `clientId`'s connections now, as a broker's drain or keepalive timeout would. */
  cut(clientId: string): void;
}

export async function startMqttProxy(t: TestContext, brokerUrl: string): Promise<MqttProxy> {
  const target = new URL(brokerUrl);
  const published = new Map<string, number>();
  const cuts = new Map<string, () => void>();
  const sockets = new Set<Socket>();
  const connections = new Set<{ clientId: string; sockets: Socket[] }>();
  const pipe = (from: Socket, to: Socket, read: (chunk: Buffer) => boolean) => {
    from.on('data', (chunk: Buffer) => {
      if (!read(chunk)) return;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server = createServer((down) => {
    const up = connect(Number(target.port), target.hostname);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    const connection = { clientId: '', sockets: [down, up] };
    connections.add(connection);
    down.on('close', () => connections.delete(connection));
    let clientId = '';
    let cut = false;
    const fromClient = parser({ protocolVersion: 4 });
    fromClient.on('packet', (p: Packet) => {
      if (p.cmd === 'connect') clientId = connection.clientId = p.clientId;
      if (p.cmd === 'puback' && cuts.has(clientId)) cut = true;
    });
    const fromBroker = parser({ protocolVersion: 4 });
    fromBroker.on('packet', (p: Packet) => {
      if (p.cmd === 'publish') published.set(clientId, (published.get(clientId) ?? 0) + 1);
    });
    pipe(down, up, (chunk) => {
      fromClient.parse(chunk);
      if (!cut) return true;
      const done = cuts.get(clientId);
      cuts.delete(clientId);
      down.destroy();
      up.destroy();
      done?.();
      return false;
    });
    pipe(up, down, (chunk) => {
      fromBroker.parse(chunk);
      return true;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publishedTo: (clientId) => published.get(clientId) ?? 0,
    cutAtNextPuback: (clientId) => new Promise<void>((r) => cuts.set(clientId, r)),
    cut(clientId) {
      for (const c of connections) if (c.clientId === clientId) for (const s of c.sockets) s.destroy();
    },
  };
}
