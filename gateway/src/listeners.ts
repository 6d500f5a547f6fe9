import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { GatewayConfig } from './config.ts';

/**
 * The doors into the broker: MQTT over TCP always, TLS and WebSocket when configured. Each
 * hands every connection, as a byte stream plus its peer address, to `accept`.
 */
export type Accept = (stream: Duplex, remoteAddress: string | undefined) => void;

export interface Listener {
  name: 'mqtt' | 'tls' | 'ws';
  port: number;
  close(): Promise<void>;
}

async function bind(server: Server | ReturnType<typeof createHttpServer>, port: number, host: string): Promise<number> {
  // A restarted gateway meets every unit at once: a deep accept queue turns the storm into a wait, not SYN retries.
  server.listen({ port, host, backlog: 4096 });
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closer(server: Server | ReturnType<typeof createHttpServer>): () => Promise<void> {
  return () => new Promise((resolve) => server.close(() => resolve()));
}

export async function openListeners(config: GatewayConfig, accept: Accept): Promise<Listener[]> {
  const out: Listener[] = [];
  // Nagle off: the connection guard already gathers a turn's packets into one write, and with
  // Nagle on a PUBACK could wait for the peer's delayed ACK (tens of ms) before leaving.
  const tcp = createServer({ noDelay: true }, (s) => accept(s, s.remoteAddress));
  out.push({ name: 'mqtt', port: await bind(tcp, config.mqtt.port, config.mqtt.host), close: closer(tcp) });

  if (config.tls.enabled) {
    const [cert, key] = await Promise.all([readFile(config.tls.certFile), readFile(config.tls.keyFile)]);
    const tls = createTlsServer({ cert, key, minVersion: 'TLSv1.2', noDelay: true }, (s) => accept(s, s.remoteAddress));
    out.push({ name: 'tls', port: await bind(tls, config.tls.port, config.tls.host), close: closer(tls) });
  }

  if (config.ws.enabled) {
    const http = createHttpServer((_req, res) => res.writeHead(426, { upgrade: 'websocket' }).end());
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    wss.on('connection', (ws, req) => accept(createWebSocketStream(ws), req.socket.remoteAddress));
    const port = await bind(http, config.ws.port, config.ws.host);
    out.push({
      name: 'ws',
      port,
      close: async () => {
        for (const c of wss.clients) c.terminate();
        await closer(http)();
      },
    });
  }
  return out;
}
