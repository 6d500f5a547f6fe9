/**
 * The unit's side of `media-ack` for the media tests: `hearMediaAcks(client, unitId)` subscribes
 * the unit's client to its requests and records every media-ack it is sent, answering `sending`.
 */
import assert from 'node:assert/strict';
import { decodeRequest, encodeResponse, filters, type MediaAck, parseTopic, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';

export async function hearMediaAcks(client: MqttClient, unitId: string): Promise<MediaAck[]> {
  const acks: MediaAck[] = [];
  client.on('message', (topic, bytes) => {
    const p = parseTopic(topic);
    if (!p.ok || p.value.type !== 'request' || p.value.command !== 'media-ack') return;
    const req = decodeRequest('media-ack', bytes);
    assert.ok(req.ok);
    acks.push(req.value.args);
    const answer = encodeResponse('media-ack', { id: req.value.id, status: 'ok', data: { state: 'sending' } });
    client.publish(topics.response(unitId, 'media-ack'), Buffer.from(answer), { qos: 1 });
  });
  await client.subscribeAsync(filters.unitRequests(unitId), { qos: 1 });
  return acks;
}
