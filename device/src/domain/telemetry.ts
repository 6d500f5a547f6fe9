import type { Telemetry } from '@shouwang/protocol';

/**
 * Batches regular samples into the protocol's columnar `telemetry` message. Values are stored as
 * integers in the unit named by the series (`batt_cV` = hundredths of a volt, `solar_dW` = tenths
 * of a watt): integers are 1–3 bytes in the compact (CBOR) encoding where a float is 9, and the name
 * says how to read them back without a side table. A batch closes when it is full, or early when
 * the sampling period changes (a batch has one period by definition).
 */
export type Sample = Record<string, number>;

export const SERIES_SCALE: Readonly<Record<string, number>> = {
  // Whole percent: an energy-counting SoC estimate is not better than a few percent; tenths would be noise.
  soc_pct: 1,
  batt_cV: 100,
  batt_dC: 10,
  solar_dW: 10,
  wind_dW: 10,
  load_dW: 10,
};

export type TelemetryBatch = Omit<Telemetry, 'seq'>;

export class TelemetryBatcher {
  private readonly size: number;
  private ts: number | undefined;
  private periodMs: number | undefined;
  private series: Record<string, number[]> = {};
  private count = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** Adds one sample (in natural units: %, V, °C, W); returns a finished batch when one closes. */
  add(ts: number, periodMs: number, sample: Sample): TelemetryBatch[] {
    const out: TelemetryBatch[] = [];
    if (this.count > 0 && (periodMs !== this.periodMs || ts !== (this.ts ?? 0) + this.count * periodMs)) {
      const b = this.flush();
      if (b) out.push(b);
    }
    if (this.count === 0) {
      this.ts = ts;
      this.periodMs = periodMs;
      this.series = {};
    }
    for (const [k, scale] of Object.entries(SERIES_SCALE)) {
      const v = sample[k];
      const col = this.series[k] ?? [];
      this.series[k] = col;
      // A missing reading in a column-per-metric batch is NaN-free by design: repeat the last value
      // or 0 at the start; the schema has no null, and gaps are rare (one failed I²C read).
      col.push(v === undefined || !Number.isFinite(v) ? (col.at(-1) ?? 0) : Math.round(v * scale));
    }
    this.count++;
    if (this.count >= this.size) {
      const b = this.flush();
      if (b) out.push(b);
    }
    return out;
  }

  flush(): TelemetryBatch | undefined {
    if (this.count === 0 || this.ts === undefined || this.periodMs === undefined) return undefined;
    const b: TelemetryBatch = { ts: this.ts, periodMs: this.periodMs, series: this.series };
    this.count = 0;
    this.series = {};
    return b;
  }
}
