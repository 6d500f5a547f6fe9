/** Hand-made MQTT 3.1.1 packets, for inputs no well-behaved client library will send. */
import { connect, type Socket } from 'node:net';

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

export function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), remainingLength(body.length), body]);
}

export function connectPacket(clientId: string, username: string, password: string, clean = true): Buffer {
  const flags = 0xc0 | (clean ? 0x02 : 0);
  return packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([0x04, flags, 0x00, 0x3c]), str(clientId), str(username), str(password)]));
}

export function subscribePacket(filter: string, qos: 0 | 1): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([0x00, 0x01]), str(filter), Buffer.from([qos])]));
}

export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}
