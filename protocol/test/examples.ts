import type { UplinkKind, UplinkPayload } from '@shouwang/protocol';

/** One valid payload per kind, at the precision the compact form keeps, for round-trip and golden tests. */
export const EXAMPLES = {
  presence: { state: 'online', ts: 1_763_856_000_000, agent: '0.1.0', board: 'pi4', nextContactBy: 1_763_859_600_000 },
  power: {
    seq: 42,
    ts: 1_763_856_000_000,
    soc: 76.4,
    batteryV: 13.13,
    solarW: 31.2,
    windW: 4.5,
    loadW: 7.9,
    state: 'full',
    batteryTempC: -21.5,
    timeToEmptyH: 64.8,
    autonomyD: 2.3,
  },
  location: { seq: 43, ts: 1_763_856_000_000, lat: 45.75009, lon: 126.59878, fix: '3d', altM: 142.1, speedMps: 0, sats: 13, hdop: 0.8 },
  link: { seq: 44, ts: 1_763_856_000_000, type: 'lte', rssiDbm: -81, bars: 4, operator: 'CHINA MOBILE', bytesMonth: 1_234_567 },
  telemetry: { seq: 45, ts: 1_763_856_000_000, periodMs: 60_000, series: { tempC: [-21.5, -21.7, -22], motion: [0, 0, 1] } },
  alarm: {
    seq: 300,
    ts: 1_763_856_000_000,
    id: 'hrb-001:tamper:1',
    kind: 'tamper',
    severity: 'critical',
    state: 'raised',
    lat: 45.75009,
    lon: 126.59878,
    message: 'lid forced',
  },
  event: { seq: 301, ts: 1_763_856_000_000, kind: 'power-state', from: 'full', to: 'alarm-camera', reason: 'soc 39.5% < 40%' },
  ota: { seq: 302, ts: 1_763_856_000_000, rollout: 'r-2026-11', version: '0.2.0', phase: 'downloading', progress: 40 },
  video: { seq: 303, ts: 1_763_856_000_000, state: 'live', bitrateKbps: 800 },
} as const satisfies { [K in UplinkKind]: UplinkPayload<K> };
