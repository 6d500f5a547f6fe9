import { connect as netConnect } from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import clientModule from 'mqtt/lib/client';

const { default: Client } = clientModule;

/**
 * An MQTT.js client over a plain TCP (mqtt://) or TLS (mqtts://) socket, built without
 * `mqtt.connect()`. That function's protocol table makes the first connect load every transport
 * MQTT.js knows — ws, socks (+ ip-address, smart-buffer), tls, wx/ali — about 40 modules the unit
 * never uses, a few MB of heap in a process that has 64 MB in all; importing the client module
 * alone keeps them out of the bundle too. The client itself (keepalive, QoS 1 store, packet
 * parsing) is MQTT.js unchanged, except `writeCache: false`: by default mqtt-packet fills a table
 * of 65,536 two-byte Buffers (one per packet id) on the first write — 6.5 MB of heap, most of
 * the gap between an idle MQTT.js client (~70 MB RSS) and a bare Node process (~43 MB). A unit
 * sending a few messages a minute gains nothing from it.
 */
export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  const secure = u.protocol === 'mqtts:' || u.protocol === 'ssl:';
  if (!secure && u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') throw new Error(`unsupported MQTT URL scheme ${u.protocol}`);
  const host = u.hostname;
  const port = Number(u.port || (secure ? 8883 : 1883));
  // TLS only when asked for: loading node:tls initialises OpenSSL, ~7 MB RSS a plain-TCP unit never needs.
  const tls = secure ? process.getBuiltinModule('node:tls') : undefined;
  const stream = () => (tls ? tls.connect({ host, port, servername: host }) : netConnect({ host, port }));
  return new Client(stream, { protocol: secure ? 'mqtts' : 'mqtt', host, port, writeCache: false, ...options });
}
