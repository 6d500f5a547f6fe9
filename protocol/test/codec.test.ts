import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DIGEST_MAX_ALARMS,
  decodeMessage,
  decodeRequest,
  decodeResponse,
  decodeUplink,
  ErrorCode,
  encodeRequest,
  encodeResponse,
  encodeUplink,
  type Power,
  SBD_MO_BYTES,
  sniffEncoding,
  topics,
  UPLINK,
} from '@shouwang/protocol';
import { Encoder } from 'cbor-x';
import { EXAMPLES } from './examples.ts';

const cbor = new Encoder({ useRecords: false });

describe('round trip', () => {
  for (const [kind, payload] of Object.entries(EXAMPLES)) {
    test(`${kind}: JSON and compact decode to the same payload`, () => {
      const k = kind as keyof typeof EXAMPLES;
      for (const encoding of ['json', 'compact'] as const) {
        const bytes = encodeUplink(k, payload as never, encoding);
        assert.equal(sniffEncoding(bytes), encoding);
        const r = decodeUplink(k, bytes);
        assert.ok(r.ok, JSON.stringify(r));
        assert.deepEqual(r.value, payload);
        assert.ok(bytes.length <= UPLINK[k].maxBytes);
      }
    });
  }

  test('compact is much smaller than JSON for status payloads', () => {
    const json = encodeUplink('power', EXAMPLES.power).length;
    const compact = encodeUplink('power', EXAMPLES.power, 'compact').length;
    assert.ok(compact * 3 < json, `compact ${compact} B vs JSON ${json} B`);
  });

  test('compact keeps the declared precision and rounds beyond it', () => {
    const precise: Power = { ...EXAMPLES.power, soc: 55.55, batteryV: 12.3456 };
    const r = decodeUplink('power', encodeUplink('power', precise, 'compact'));
    assert.ok(r.ok);
    assert.equal(r.value.soc, 55.6);
    assert.equal(r.value.batteryV, 12.35);
  });

  test('commands round-trip with their correlation id', () => {
    const req = decodeRequest('config-set', encodeRequest('config-set', { id: 'c-1', args: { config: { 'report.intervalS': 60 } } }));
    assert.deepEqual(req, { ok: true, value: { id: 'c-1', args: { config: { 'report.intervalS': 60 } } } });
    const ok = decodeResponse('ping', encodeResponse('ping', { id: 'c-2', status: 'ok', data: { uptimeS: 12, ts: 1_763_856_000_000 } }));
    assert.ok(ok.ok);
    const err = decodeResponse(
      'config-set',
      encodeResponse('config-set', {
        id: 'c-3',
        status: 'error',
        error: { code: ErrorCode.Schema, message: 'must be ≥ 1', path: '/config/report.intervalS' },
      }),
    );
    assert.ok(err.ok && err.value.status === 'error' && err.value.error.path === '/config/report.intervalS');
  });
});

test('a full digest (status, fix, link, the most alarms it carries) fits one Iridium SBD message compact', () => {
  // The longest ids the agent makes: `<longest kind>:<base-36 seconds>`.
  const alarms = Array.from({ length: DIGEST_MAX_ALARMS }, (_, i) => ({
    id: `over-temperature:${(1_763_850_000 + i).toString(36)}`,
    kind: 'over-temperature' as const,
    severity: 'critical' as const,
    since: 1_763_850_000_000 + i * 1000,
  }));
  const full = { ...EXAMPLES.digest, alarms, alarmsMore: 2 };
  const bytes = encodeUplink('digest', full, 'compact');
  assert.ok(bytes.length <= SBD_MO_BYTES, `${bytes.length} B`);
  assert.deepEqual(decodeUplink('digest', bytes), { ok: true, value: full });
});

describe('golden fixtures', () => {
  // The bytes on the wire are a contract with units already in the field: these must not drift.
  for (const [kind, hex] of Object.entries(GOLDEN_COMPACT())) {
    test(`${kind} compact bytes are stable`, () => {
      const k = kind as keyof typeof EXAMPLES;
      assert.equal(Buffer.from(encodeUplink(k, EXAMPLES[k] as never, 'compact')).toString('hex'), hex);
    });
  }
});

function GOLDEN_COMPACT(): Partial<Record<keyof typeof EXAMPLES, string>> {
  return {
    power: '8b182a1a69224e801902fc190521190138182d184f0038d619028817',
    location: '89182b1a69224e801a02ba174a1a078bbe7c0219058d000d08',
    alarm: '8a19012c1a69224e80706872622d3030313a74616d7065723a31000000f61a02ba174a1a078bbe7c6a6c696420666f72636564',
  };
}

describe('malformed input never throws', () => {
  const topic = topics.uplink('hrb-001', 'power');
  const cases: [string, Uint8Array, string, string?][] = [
    ['empty', new Uint8Array(), ErrorCode.Encoding],
    ['garbage text', Buffer.from('hello'), ErrorCode.Encoding],
    ['truncated JSON', Buffer.from('{"seq":1,'), ErrorCode.Encoding],
    ['JSON array, not object', Buffer.from('[1,2]'), ErrorCode.Encoding],
    ['truncated CBOR', Buffer.from([0x85, 0x01]), ErrorCode.Encoding],
    ['missing field', Buffer.from('{"seq":1,"ts":1}'), ErrorCode.Schema, '/soc'],
    ['wrong type', Buffer.from(JSON.stringify({ ...baseJson(), soc: 'full' })), ErrorCode.Schema, '/soc'],
    ['out of range', Buffer.from(JSON.stringify({ ...baseJson(), soc: 140 })), ErrorCode.Schema, '/soc'],
    ['unknown enum', Buffer.from(JSON.stringify({ ...baseJson(), state: 'turbo' })), ErrorCode.Schema, '/state'],
    ['extra property', Buffer.from(JSON.stringify({ ...baseJson(), extra: 1 })), ErrorCode.Schema, '/extra'],
    ['prototype key', Buffer.from(`{"__proto__":{"x":1},${JSON.stringify(baseJson()).slice(1)}`), ErrorCode.Schema],
    ['compact enum index out of range', cbor.encode([1, 1_763_856_000, 500, 1200, 0, 0, 0, 23]), ErrorCode.Schema, '/state'],
    ['compact too many fields', Buffer.from([0x8f, ...Array(15).fill(0)]), ErrorCode.Schema],
    ['oversized', Buffer.alloc(UPLINK.power.maxBytes + 1, 0x20), ErrorCode.TooLarge],
  ];
  for (const [name, bytes, code, path] of cases) {
    test(name, () => {
      const r = decodeMessage(topic, bytes);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, code, r.error.message);
      if (path) assert.equal(r.error.path, path);
    });
  }

  test('random bytes are rejected with a code', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (rnd() % 64) }, rnd);
      const r = decodeMessage(topic, bytes);
      if (!r.ok) assert.ok(Object.values(ErrorCode).includes(r.error.code));
    }
  });
});

function baseJson() {
  return JSON.parse(Buffer.from(encodeUplink('power', EXAMPLES.power)).toString()) as Record<string, unknown>;
}
