import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type IClientOptions, MqttClient } from 'mqtt';

/**
 * An MQTT.js client over a plain TCP (mqtt://) or TLS (mqtts://) socket, built without
 * `mqtt.connect()`. That function's protocol table makes the first connect load every transport
 * MQTT.js knows — ws, socks (+ ip-address, smart-buffer), tls, wx/ali — about 40 modules the unit
 * never uses, a few MB of heap in a process that has 64 MB in all. The client itself (keepalive,
 * QoS 1 store, packet parsing) is MQTT.js unchanged.
 */
export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  const secure = u.protocol === 'mqtts:' || u.protocol === 'ssl:';
  if (!secure && u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') throw new Error(`unsupported MQTT URL scheme ${u.protocol}`);
  const host = u.hostname;
  const port = Number(u.port || (secure ? 8883 : 1883));
  const stream = () => (secure ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port }));
  return new MqttClient(stream, { protocol: secure ? 'mqtts' : 'mqtt', host, port, ...options });
}
