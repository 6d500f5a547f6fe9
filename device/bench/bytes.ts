/**
 * Bytes on the wire, from real encodings of the agent's messages (protocol encoders, the agent's
 * telemetry batcher), with MQTT 3.1.1 framing and TCP/IPv4 headers added by rule:
 *   PUBLISH = fixed header + topic + packet id + payload (publishPacketBytes), PUBACK = 4 B,
 *   PINGREQ/PINGRESP = 2 B each, each MQTT packet in its own TCP segment with 52 B of IPv4 + TCP
 *   (with timestamps) headers: the pessimistic case on a quiet link, where nothing coalesces.
 * The data-use table assumes telemetry every minute (batched hourly), status heartbeats every
 * 30 min plus a power change an hour in daylight, two alarm occurrences and two events a day, and
 * one (re)connect a day.
 */
import { type Digest, encodeUplink, filters, topics, type UplinkKind, type UplinkPayload } from '@shouwang/protocol';
import type { BenchRow as Row } from '@shouwang/runtime';
import { buildDigest } from '../src/domain/digest.ts';
import { TelemetryBatcher } from '../src/domain/telemetry.ts';
import { publishPacketBytes } from '../src/domain/upload-policy.ts';
import { DEFAULT_VIDEO_USAGE, FULL_SNAPSHOT, SATELLITE_SNAPSHOT } from '../src/domain/video-ladder.ts';
import { recordingBytesPerSecond, stillBytes, uploadOverhead } from './media-sizes.lib.ts';

const UNIT = 'hrb-001';
const TCPIP = 52;
const DAY = 86_400;
const ts = Date.UTC(2026, 0, 10, 8);

function payload<K extends UplinkKind>(kind: K, p: UplinkPayload<K>, enc: 'json' | 'compact'): number {
  return encodeUplink(kind, p, enc).length;
}

/** Bytes one QoS 1 message costs on the air, both directions. */
function qos1Wire<K extends UplinkKind>(kind: K, p: UplinkPayload<K>, enc: 'json' | 'compact', tcp = true): number {
  const pub = publishPacketBytes(topics.uplink(UNIT, kind), payload(kind, p, enc), 1);
  return tcp ? pub + TCPIP + 4 + TCPIP : pub;
}

const power = {
  seq: 123_456,
  ts,
  soc: 63.4,
  batteryV: 13.08,
  solarW: 21.4,
  windW: 3.7,
  loadW: 6.2,
  state: 'full',
  batteryTempC: -18.5,
  timeToEmptyH: 41.2,
  autonomyD: 2.6,
} as const;
const location = { seq: 123_457, ts, lat: 45.750123, lon: 126.630456, fix: '3d', altM: 142.1, sats: 11, hdop: 0.9 } as const;
const link = { seq: 123_458, ts, type: 'lte', rssiDbm: -79, bars: 4, operator: 'CHINA MOBILE' } as const;
const alarm = (i: number) =>
  ({
    seq: 123_460 + i,
    ts,
    id: `tamper:${(ts / 1000 + i).toString(36)}`,
    kind: 'tamper',
    severity: 'critical',
    state: 'raised',
    value: 1,
    lat: 45.750123,
    lon: 126.630456,
    message: 'enclosure opened',
  }) as const;
const event = {
  seq: 123_470,
  ts,
  kind: 'power-state',
  from: 'full',
  to: 'alarm-camera',
  reason: 'full → alarm-camera: soc 59.8% below 60%',
} as const;
const presence = { state: 'online', ts, agent: '0.1.0', board: 'pi4', nextContactBy: ts + 3_600_000 } as const;

/** An hour of per-minute samples on a winter day: slow battery drift, gusty wind, a cloud. */
function hourBatch(): UplinkPayload<'telemetry'> {
  const b = new TelemetryBatcher(60);
  let out: ReturnType<TelemetryBatcher['add']> = [];
  for (let i = 0; i < 60; i++) {
    out = b.add(ts + i * 60_000, 60_000, {
      soc_pct: 63.4 - i * 0.02,
      batt_cV: 13.08 - i * 0.0005,
      batt_dC: -18.5 + 0.01 * i,
      solar_dW: i > 20 && i < 30 ? 6.1 : 21.4 + Math.sin(i / 7),
      wind_dW: 3.7 + ((i * 37) % 11) / 10,
      load_dW: 6.2 + (i % 5 === 0 ? 1.3 : 0),
    });
  }
  const batch = out[0];
  if (!batch) throw new Error('batch did not close');
  return { ...batch, seq: 123_500 };
}

function connectBytes(): number {
  // CONNECT (3.1.1): fixed 2 + variable 10 + client id, will topic + payload, username, password (2-byte lengths each).
  const will = encodeUplink('presence', { ...presence, state: 'offline' }, 'json').length;
  const connect = 2 + 10 + (2 + UNIT.length) + (2 + topics.uplink(UNIT, 'presence').length) + (2 + will) + (2 + UNIT.length) + (2 + 32);
  const subscribe = 2 + 2 + 2 + filters.unitRequests(UNIT).length + 1;
  const online = qos1Wire('presence', presence, 'json');
  // TCP handshake 3 segments + CONNECT + CONNACK (4 B) + SUBSCRIBE + SUBACK (5 B), each a segment.
  return 3 * TCPIP + connect + TCPIP + 4 + TCPIP + subscribe + TCPIP + 5 + TCPIP + online;
}

export async function bench(): Promise<Row[]> {
  const batch = hourBatch();
  const jsonPerSample = publishPacketBytes(topics.uplink(UNIT, 'telemetry'), payload('telemetry', batch, 'json'), 1) / 60;
  const compactPerSample = publishPacketBytes(topics.uplink(UNIT, 'telemetry'), payload('telemetry', batch, 'compact'), 1) / 60;
  const single = publishPacketBytes(topics.uplink(UNIT, 'power'), payload('power', power, 'json'), 1);

  // Satellite: the digest, one SBD message (≤ 340 B mobile-originated) carrying the full status and the
  // open alarms, built by the agent's own code; baseline: the same content as separate compact messages.
  const openAlarms = [0, 1, 2].map((i) => alarm(i));
  const separate =
    payload('power', power, 'compact') +
    payload('location', location, 'compact') +
    payload('link', link, 'compact') +
    openAlarms.reduce((s, a) => s + payload('alarm', a, 'compact'), 0);
  const { seq: _s, ts: _t, ...powerFields } = power;
  const digestMsg: Digest = {
    seq: 123_480,
    ...buildDigest(
      {
        ts,
        power: { ...powerFields, state: 'satellite-digest' },
        location: { lat: location.lat, lon: location.lon, fix: location.fix },
        link: { type: 'satellite', rssiDbm: -110, bars: 3, bytesMonth: 16_422 },
        nextContactBy: ts + 6 * 3_600_000,
      },
      openAlarms.map((a) => ({ id: a.id, kind: a.kind, severity: a.severity, raisedAt: a.ts })),
      (d) => payload('digest', { seq: 0xffffffff, ...d }, 'compact'),
    ),
  };
  const digest = payload('digest', digestMsg, 'compact');
  const digestPacket = publishPacketBytes(topics.uplink(UNIT, 'digest'), digest, 1);

  const month = 30;
  const enc = 'compact' as const;
  const cellular: [string, number][] = [
    ['telemetry (1/min, hourly batches)', 24 * qos1Wire('telemetry', batch, enc)],
    ['status: power (48 heartbeats + 12 changes/day)', 60 * qos1Wire('power', power, enc)],
    ['status: location (48/day)', 48 * qos1Wire('location', location, enc)],
    ['status: link (48/day)', 48 * qos1Wire('link', link, enc)],
    ['alarms (2 raised + 2 cleared/day)', 4 * qos1Wire('alarm', alarm(0), enc)],
    ['events (2/day)', 2 * qos1Wire('event', event, enc)],
    ['presence + connect (1/day)', connectBytes()],
  ];
  const keepalive = (s: number) => (DAY / s) * (2 + TCPIP + 2 + TCPIP);
  const cellDay = cellular.reduce((s, [, b]) => s + b, 0);
  const rows: Row[] = [
    {
      name: 'telemetry bytes/sample, compact, 60-sample batch (baseline JSON)',
      value: compactPerSample,
      unit: 'B',
      baseline: jsonPerSample,
      target: '≤ 15 B',
    },
    { name: 'status message, one power reading as JSON, unbatched', value: single, unit: 'B' },
    {
      name: 'satellite digest: status (power+location+link) + 3 open alarms, compact payload (baseline: as 6 separate messages)',
      value: digest,
      unit: 'B',
      baseline: separate,
      target: '≤ 340 B (one SBD MO message)',
    },
    { name: 'satellite digest as a whole MQTT PUBLISH packet', value: digestPacket, unit: 'B', target: '≤ 340 B' },
  ];
  for (const [name, perDay] of cellular) rows.push({ name: `cellular/month: ${name}`, value: (perDay * month) / 1e6, unit: 'MB' });
  rows.push({
    name: 'cellular/month: keep-alive at 300 s (baseline: 30 s default)',
    value: (keepalive(300) * month) / 1e6,
    unit: 'MB',
    baseline: (keepalive(30) * month) / 1e6,
  });
  rows.push({
    name: 'cellular/month: total, keep-alive 300 s (baseline 30 s)',
    value: ((cellDay + keepalive(300)) * month) / 1e6,
    unit: 'MB',
    baseline: ((cellDay + keepalive(30)) * month) / 1e6,
    target: '≤ 3 MB',
  });
  // Video, from measured media: the ladder's modes with its usage assumptions (2 alarms a day with a
  // 30 s clip and a still each, a still every 15 min, 10 min of live a day), through the bulk lane.
  const u = DEFAULT_VIDEO_USAGE;
  const overhead = uploadOverhead(UNIT);
  const still = stillBytes(FULL_SNAPSHOT);
  const rate = { 1000: recordingBytesPerSecond(1000, 15), 512: recordingBytesPerSecond(512, 10), 256: recordingBytesPerSecond(256, 5) };
  const noVideo = cellDay + keepalive(300);
  const modes: [string, number][] = [
    [
      'full: clips at 1 Mbit/s, stills, live at 512 kbit/s',
      u.alarmsPerDay * u.clipS * rate[1000] + (u.snapshotsPerDay + u.alarmsPerDay) * still + u.liveMinPerDay * 60 * rate[512],
    ],
    [
      'reduced: clips at 512 kbit/s, stills, live',
      u.alarmsPerDay * u.clipS * rate[512] + (u.snapshotsPerDay + u.alarmsPerDay) * still + u.liveMinPerDay * 60 * rate[512],
    ],
    [
      'low: clips at 256 kbit/s, stills, live at 256',
      u.alarmsPerDay * u.clipS * rate[256] + (u.snapshotsPerDay + u.alarmsPerDay) * still + u.liveMinPerDay * 60 * rate[256],
    ],
    ['snapshots: a still every 15 min + alarm stills', (u.snapshotsPerDay + u.alarmsPerDay) * still],
    ['events: alarm clips at 256 kbit/s + alarm stills', u.alarmsPerDay * (u.clipS * rate[256] + still)],
  ];
  rows.push({ name: 'bulk lane upload overhead on 4G (wire bytes / media bytes)', value: overhead, unit: '×', target: '≤ 1.05×' });
  rows.push({ name: 'ring recording at 1 Mbit/s (video + 32 kbit/s AAC + MPEG-TS)', value: (rate[1000] * 8) / 1000, unit: 'kbit/s' });
  rows.push({ name: `still ${FULL_SNAPSHOT.width}×${FULL_SNAPSHOT.height} q${FULL_SNAPSHOT.quality}`, value: still, unit: 'B' });
  rows.push({
    name: `still on satellite ${SATELLITE_SNAPSHOT.width}×${SATELLITE_SNAPSHOT.height}`,
    value: stillBytes(SATELLITE_SNAPSHOT),
    unit: 'B',
    target: '≤ 6,800 B/day budget',
  });
  for (const [name, media] of modes)
    rows.push({
      name: `cellular/month with video, ${name} (baseline: no video)`,
      value: ((noVideo + media * overhead) * month) / 1e6,
      unit: 'MB',
      baseline: (noVideo * month) / 1e6,
    });
  // Satellite: MQTT bytes as the budget counts them (SBD carries no TCP/IP); a digest every 6 h, 4 alarm transitions.
  const satDay = 4 * qos1Wire('digest', digestMsg, 'compact', false) + 4 * qos1Wire('alarm', alarm(0), 'compact', false);
  rows.push({
    name: 'satellite/day: 4 digests + 4 alarm transitions',
    value: satDay,
    unit: 'B',
    target: '≤ daily budget (6,800 B default)',
  });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench())
    console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.baseline === undefined ? '' : ` (baseline ${r.baseline.toFixed(2)})`}`);
}
