/**
 * The media contract: binary chunks on their own topic, the evidence chain, and the live-feed,
 * talk-down and media-ack commands.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  addRange,
  canonicalEvidenceEntry,
  coversAll,
  decodeChunk,
  decodeMessage,
  decodeRequest,
  decodeResponse,
  decodeUplink,
  ErrorCode,
  type EvidenceEntry,
  encodeChunk,
  encodeRequest,
  encodeResponse,
  encodeUplink,
  evidenceHeads,
  filters,
  firstGap,
  kindOfAcceptedTopic,
  MEDIA_CHUNK_MAX_BYTES,
  MEDIA_CHUNK_MESSAGE_MAX_BYTES,
  type MediaChunk,
  mergeRanges,
  parseTopic,
  rangeBytes,
  SBD_MO_BYTES,
  TALK_DOWN_MAX_AUDIO_BYTES,
  topics,
  unitAcl,
} from '@shouwang/protocol';
import { EXAMPLES } from './examples.ts';

const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

function chunk(data: Uint8Array, extra: Partial<MediaChunk> = {}): MediaChunk {
  return { recording: 'seg-1763856000', kind: 'segment', offset: 0, hash: sha(data), data, ...extra };
}

test('a chunk travels as raw bytes and decodes to the same bytes', () => {
  const data = new Uint8Array(16 * 1024).map((_, i) => (i * 31) & 0xff);
  const whole = new Uint8Array(40_000);
  const c = chunk(data, { offset: 16_384, size: whole.length, sha256: sha(whole), type: 'video/mp2t', startTs: 1_763_856_000_123 });
  const bytes = encodeChunk(c);
  const r = decodeMessage(topics.chunk('hrb-001'), bytes);
  assert.ok(r.ok && r.value.type === 'chunk', JSON.stringify(r));
  assert.deepEqual(Buffer.from(r.value.payload.data), Buffer.from(data));
  assert.deepEqual(Buffer.from(r.value.payload.sha256 ?? []), Buffer.from(sha(whole)));
  assert.equal(r.value.payload.startTs, 1_763_856_000_123, 'capture time keeps its milliseconds');
  // Header (ids, offset, two hashes) over 16 KiB of data: well under 1 %, not base64's 33 %.
  assert.ok(bytes.length - data.length < 160, `${bytes.length - data.length} B of header`);
});

test('chunks are refused as JSON, oversized, or with a hash of the wrong length', () => {
  const data = new Uint8Array([1, 2, 3]);
  const json = decodeChunk(new TextEncoder().encode(JSON.stringify({ ...chunk(data), data: Buffer.from(data).toString('base64') })));
  assert.ok(!json.ok && json.error.code === ErrorCode.Encoding, 'base64 JSON is refused, not accepted as text');
  const big = encodeChunk(chunk(new Uint8Array(MEDIA_CHUNK_MAX_BYTES)));
  assert.ok(big.length <= MEDIA_CHUNK_MESSAGE_MAX_BYTES);
  const over = decodeChunk(new Uint8Array(MEDIA_CHUNK_MESSAGE_MAX_BYTES + 1).fill(0x80));
  assert.ok(!over.ok && over.error.code === ErrorCode.TooLarge);
  const badHash = decodeChunk(encodeChunk({ ...chunk(data), hash: new Uint8Array(31) }));
  assert.ok(!badHash.ok && badHash.error.code === ErrorCode.Schema && badHash.error.path === '/hash', JSON.stringify(badHash));
  const empty = decodeChunk(encodeChunk({ ...chunk(data), data: new Uint8Array(0) }));
  assert.ok(!empty.ok && empty.error.path === '/data', JSON.stringify(empty));
});

test('the chunk topic is its own: not an uplink kind, a unit may publish only its own', () => {
  assert.equal(topics.chunk('hrb-001'), 'sw/v1/hrb-001/chunk');
  assert.deepEqual(parseTopic('sw/v1/hrb-001/chunk'), { ok: true, value: { unitId: 'hrb-001', type: 'chunk' } });
  assert.equal(kindOfAcceptedTopic(topics.chunk('hrb-001')), 'chunk');
  assert.equal(filters.allChunks(), 'sw/v1/+/chunk');
  assert.ok(unitAcl.mayPublish('hrb-001', topics.chunk('hrb-001')));
  assert.ok(!unitAcl.mayPublish('hrb-001', topics.chunk('hrb-002')));
  assert.ok(!parseTopic('sw/v1/hrb-001/chunk/x').ok);
});

test('the evidence chain: heads are deterministic, order matters, and any changed field changes the head', async () => {
  const { entries } = EXAMPLES.evidence;
  const heads = await evidenceHeads('hrb-001', 'hrb-001:tamper:1', entries);
  assert.equal(heads.length, entries.length + 1);
  assert.deepEqual(await evidenceHeads('hrb-001', 'hrb-001:tamper:1', entries), heads);
  // Readings hash by name, whatever order their keys came in.
  const reordered = entries.map((e) => ('values' in e ? { ...e, values: { tempC: -21.5, tilt: 31.5 } } : e));
  assert.deepEqual(await evidenceHeads('hrb-001', 'hrb-001:tamper:1', reordered), heads);
  const swapped = [entries[1], entries[0], ...entries.slice(2)] as EvidenceEntry[];
  assert.notEqual((await evidenceHeads('hrb-001', 'hrb-001:tamper:1', swapped)).at(-1), heads.at(-1));
  const tampered = entries.map((e) => (e.part === 'snapshot' ? { ...e, bytes: e.bytes + 1 } : e));
  assert.notEqual((await evidenceHeads('hrb-001', 'hrb-001:tamper:1', tampered)).at(-1), heads.at(-1));
  assert.notEqual((await evidenceHeads('hrb-002', 'hrb-001:tamper:1', entries)).at(-1), heads.at(-1), 'bound to the unit');
  // A golden head: the chain is a contract with units in the field.
  assert.equal(heads.at(-1), GOLDEN_HEAD);
  assert.equal(
    new TextDecoder().decode(canonicalEvidenceEntry(entries[0])),
    '["part","position","ts",1763856000000,"lat",45.750091,"lon",126.598781]',
  );
});

const GOLDEN_HEAD = '063e1d860106a20ed78b7af0e12ed9ff855d91c582b4b8882c63db578a2591e8';

test('the evidence manifest survives the compact encoding exactly, so its chain still verifies', async () => {
  const r = decodeUplink('evidence', encodeUplink('evidence', EXAMPLES.evidence, 'compact'));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(
    await evidenceHeads('hrb-001', r.value.alarm, r.value.entries),
    await evidenceHeads('hrb-001', EXAMPLES.evidence.alarm, EXAMPLES.evidence.entries),
  );
});

test('an alarm with its evidence head still fits one Iridium SBD message compact', () => {
  const bytes = encodeUplink('alarm', { ...EXAMPLES.alarm, evidence: 'f'.repeat(64) }, 'compact');
  assert.ok(bytes.length <= SBD_MO_BYTES, `${bytes.length} B`);
  const r = decodeUplink('alarm', bytes);
  assert.ok(r.ok && r.value.evidence === 'f'.repeat(64));
  const bad = decodeUplink('alarm', encodeUplink('alarm', { ...EXAMPLES.alarm, evidence: 'F'.repeat(64) }));
  assert.ok(!bad.ok && bad.error.path === '/evidence');
});

test('talk-down: a stock message in JSON, a recorded one in compact with raw audio, too long refused', () => {
  const stock = decodeRequest('talk-down', encodeRequest('talk-down', { id: 'td-1', args: { stock: 'leave-area', volume: 80 } }));
  assert.ok(stock.ok, JSON.stringify(stock));
  const audio = new Uint8Array(TALK_DOWN_MAX_AUDIO_BYTES).fill(7);
  const args = { audio, type: 'audio/ogg' as const, durationMs: 6000 };
  const rec = decodeRequest('talk-down', encodeRequest('talk-down', { id: 'td-2', args }, 'compact'));
  assert.ok(rec.ok && 'audio' in rec.value.args && rec.value.args.audio.length === audio.length, JSON.stringify(rec).slice(0, 200));
  const over = decodeRequest(
    'talk-down',
    encodeRequest('talk-down', { id: 'td-3', args: { ...args, audio: new Uint8Array(TALK_DOWN_MAX_AUDIO_BYTES + 1) } }, 'compact'),
  );
  assert.ok(!over.ok && over.error.code === ErrorCode.Schema, JSON.stringify(over.ok ? '' : over.error));
  const refused = decodeResponse(
    'talk-down',
    encodeResponse('talk-down', { id: 'td-4', status: 'ok', data: { state: 'refused', reason: 'critical-power', detail: 'battery 4 %' } }),
  );
  assert.ok(refused.ok && refused.value.status === 'ok' && refused.value.data.state === 'refused');
});

test('live-start: an answer is a running feed or a refusal with its reason and the latest snapshot', () => {
  const live = { state: 'live' as const, feed: 'f-1', segmentMs: 1000, bitrateKbps: 512, until: 1_763_856_030_000 };
  const refused = { state: 'refused' as const, reason: 'satellite' as const, detail: 'satellite link: no video', snapshot: 'snap-1' };
  for (const data of [live, refused]) {
    const r = decodeResponse('live-start', encodeResponse('live-start', { id: 'l-1', status: 'ok', data }));
    assert.ok(r.ok && r.value.status === 'ok', JSON.stringify(r));
    assert.deepEqual(r.value.data, data);
  }
  const unknown = decodeResponse(
    'live-start',
    encodeResponse('live-start', { id: 'l-2', status: 'ok', data: { ...refused, reason: 'bored' as never } }),
  );
  assert.ok(!unknown.ok);
});

test('media-ack names the ranges the fleet holds; a refusal carries its reason', () => {
  const args = { recording: 'seg-1', state: 'partial' as const, have: [{ offset: 0, length: 65_536 }] };
  assert.ok(decodeRequest('media-ack', encodeRequest('media-ack', { id: 'a-1', args })).ok);
  const refusal = { recording: 'seg-1', state: 'refused' as const, have: [], reason: 'quota' as const };
  assert.ok(decodeRequest('media-ack', encodeRequest('media-ack', { id: 'a-2', args: refusal }, 'compact')).ok);
  const bad = decodeRequest('media-ack', encodeRequest('media-ack', { id: 'a-3', args: { ...args, have: [{ offset: 0, length: 0 }] } }));
  assert.ok(!bad.ok && bad.error.path === '/args/have/0/length', JSON.stringify(bad));
});

test('byte ranges: merged when they touch or overlap, the first gap bounded, full cover recognised', () => {
  const set = mergeRanges([
    { offset: 100, length: 50 },
    { offset: 0, length: 100 },
    { offset: 300, length: 10 },
    { offset: 120, length: 60 },
  ]);
  assert.deepEqual(set, [
    { offset: 0, length: 180 },
    { offset: 300, length: 10 },
  ]);
  assert.equal(rangeBytes(set), 190);
  assert.deepEqual(firstGap(400, 1000, set), { offset: 180, length: 120 });
  assert.deepEqual(firstGap(400, 50, set), { offset: 180, length: 50 });
  assert.deepEqual(firstGap(400, 1000, set, [{ offset: 180, length: 120 }]), { offset: 310, length: 90 });
  assert.equal(firstGap(310, 1000, addRange(set, { offset: 180, length: 120 })), undefined);
  assert.ok(!coversAll(set, 310));
  assert.ok(coversAll(addRange(set, { offset: 180, length: 120 }), 310));
});
