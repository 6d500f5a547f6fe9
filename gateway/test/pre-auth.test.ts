/**
 * What a connection may cost before its login is accepted: a few per source address at once, a
 * CONNECT of a few kilobytes, and a bounded number of bytes in all until CONNACK 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '@shouwang/testkit';
import { metricsText, startGateway } from './helpers.ts';
import { closed, connectPacket, login, packet, rawSocket, reply } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1' }, services: {} };

test('connections not logged in yet are capped per source address; other addresses are not affected', async (t) => {
  const gw = await startGateway(t, creds, { config: { auth: { maxPendingPerSource: 5 } } });
  const idle = await Promise.all(Array.from({ length: 5 }, () => rawSocket(gw.mqttPort)));
  defer(t, () => {
    for (const s of idle) s.destroy();
  });
  const sixth = await rawSocket(gw.mqttPort);
  assert.equal(await reply(sixth), 'closed');
  assert.match(await metricsText(gw), /rejects_total\{reason="pending-per-source"\} 1/);
  assert.equal(await login(gw.mqttPort, 'hrb-001', 'pw-1', '127.0.0.2'), 0);
  // A slot comes back when a pending connection goes away.
  idle[0]?.destroy();
  await closed(idle[0] as NonNullable<(typeof idle)[0]>);
  const deadline = Date.now() + 5000;
  let code: number | 'closed' = 'closed';
  while (code === 'closed' && Date.now() < deadline) code = await login(gw.mqttPort, 'hrb-001', 'pw-1');
  assert.equal(code, 0);
});

test('a CONNECT announcing more than maxConnectBytes is cut from its header, before its body is buffered', async (t) => {
  const gw = await startGateway(t, creds);
  const s = await rawSocket(gw.mqttPort);
  defer(t, () => s.destroy());
  // 200 kB announced (within the 256 KiB packet limit), a first kilobyte sent, the rest withheld.
  s.write(Buffer.from([0x10, 0xc0, 0x9a, 0x0c]));
  s.write(Buffer.alloc(1000, 0x41));
  assert.equal(await reply(s), 'closed');
  assert.match(await metricsText(gw), /rejects_total\{reason="connect-too-large"\} 1/);
});

test('bytes sent before the login is accepted are capped: packets piled up behind a slow login are cut', async (t) => {
  const gw = await startGateway(t, creds, { config: { auth: { maxPreAuthBytes: 8192, failedLoginDelayMs: 3000 } } });
  const s = await rawSocket(gw.mqttPort);
  defer(t, () => s.destroy());
  s.write(connectPacket('hrb-001', 'hrb-001', 'wrong'));
  // 20 kB of PUBLISHes while the refusal is pending (3 s): the gateway would hold them all.
  const publish = packet(0x30, Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('a/b'), Buffer.alloc(1000, 0x42)]));
  for (let i = 0; i < 20; i++) s.write(publish);
  assert.equal(await reply(s, 2500), 'closed', 'cut before the CONNACK was due');
  assert.match(await metricsText(gw), /rejects_total\{reason="pre-auth-bytes"\} 1/);
});
