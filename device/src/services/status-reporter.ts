import { type Digest, encodeUplink, type Link, type Location, type Power, type PowerState, UPLINK } from '@shouwang/protocol';
import { buildDigest, type OpenAlarm } from '../domain/digest.ts';
import { type PowerEstimate, RUNG_LIMITS } from '../domain/power.ts';
import { digestSignificant, linkSignificant, locationSignificant, powerSignificant, shouldReport } from '../domain/significance.ts';
import type { LinkReading } from '../drivers/link-reader.ts';
import type { GnssFix } from '../drivers/nmea.ts';
import type { Outbox } from './outbox.ts';

/**
 * The unit's status as the fleet reads it — power, location, link, or on the satellite diet one
 * digest — sent when it changed significantly or the heartbeat is due (conventions §13), and the
 * last word before the radio closes or the rung drops. Reads what the agent knows; writes only
 * to the outbox.
 */
export interface StatusSource {
  rung(): PowerState;
  estimate(): PowerEstimate | undefined;
  reading(): { batteryV: number; solarW: number; windW: number; loadW: number; batteryTempC: number } | undefined;
  link(): LinkReading | undefined;
  fix(): GnssFix | undefined;
  openAlarms(): readonly OpenAlarm[];
  bytesMonth(): number;
  nextContactBy(): number;
}

export interface StatusReporterDeps {
  outbox: Outbox;
  source: StatusSource;
  /** A status unchanged for this long is sent anyway. */
  heartbeatMs: () => number;
}

/** The last word rides in the event class: after alarms, ahead of routine status and telemetry. */
const LAST_WORD_PRIORITY = UPLINK.event.priority;

export class StatusReporter {
  private readonly d: StatusReporterDeps;
  private readonly sent: {
    power?: Omit<Power, 'seq'>;
    location?: Omit<Location, 'seq'>;
    link?: Omit<Link, 'seq'>;
    digest?: Omit<Digest, 'seq'>;
  } = {};

  constructor(deps: StatusReporterDeps) {
    this.d = deps;
  }

  /** The periodic report: what changed, or what the heartbeat says is due. */
  report(ts: number): void {
    const power = this.powerStatus(ts);
    if (!this.statusAllowed()) {
      if (power) this.reportDigest(ts, power, false);
      return;
    }
    if (power && shouldReport(this.sent.power, power, powerSignificant, this.d.heartbeatMs())) {
      this.d.outbox.enqueue('power', power);
      this.sent.power = power;
    }
    this.reportLocation(ts);
    const link = this.linkStatus(ts);
    if (link && shouldReport(this.sent.link, link, linkSignificant, this.d.heartbeatMs())) {
      this.d.outbox.enqueue('link', link);
      this.sent.link = link;
    }
  }

  /**
   * What the fleet needs to read the unit right before it goes quiet or spends less: its charge and
   * rung now, in the form the link's policy carries (a digest, with the promise, on the satellite
   * diet; the power status otherwise), queued after alarms and ahead of routine data. `force` sends
   * it even when nothing significant changed (a new rung always is). Returns the row's seq.
   */
  lastWord(ts: number, force: boolean): number | undefined {
    const power = this.powerStatus(ts);
    if (!power) return undefined;
    if (!this.statusAllowed()) return this.reportDigest(ts, power, force);
    if (!force && !shouldReport(this.sent.power, power, powerSignificant, this.d.heartbeatMs())) return undefined;
    this.sent.power = power;
    return this.d.outbox.enqueue('power', power, LAST_WORD_PRIORITY).seq;
  }

  /**
   * Reports the position if the link carries separate status; true when there was something to
   * report. Nothing is said before the receiver's first position; after it, losing the fix is news.
   */
  reportLocation(ts: number): boolean {
    const fix = this.d.source.fix();
    if ((!fix && !this.sent.location) || !this.statusAllowed()) return false;
    // Without a current fix the message carries no position: the last one is history, not where the unit is.
    const location: Omit<Location, 'seq'> =
      fix && fix.fix !== 'none'
        ? {
            ts,
            lat: fix.lat,
            lon: fix.lon,
            fix: fix.fix,
            ...(fix.altM === undefined ? {} : { altM: fix.altM }),
            ...(fix.speedMps === undefined ? {} : { speedMps: fix.speedMps }),
            ...(fix.sats === undefined ? {} : { sats: fix.sats }),
            ...(fix.hdop === undefined ? {} : { hdop: fix.hdop }),
          }
        : { ts, fix: 'none' };
    if (shouldReport(this.sent.location, location, locationSignificant, this.d.heartbeatMs())) {
      this.d.outbox.enqueue('location', location);
      this.sent.location = location;
    }
    return true;
  }

  /** Separate status messages on cellular; on the satellite diet they give way to the digest. */
  private statusAllowed(): boolean {
    return this.d.source.link()?.type !== 'satellite' && RUNG_LIMITS[this.d.source.rung()].modem !== 'alarms-only';
  }

  private powerStatus(ts: number): Omit<Power, 'seq'> | undefined {
    const est = this.d.source.estimate();
    const r = this.d.source.reading();
    if (!est || !r) return undefined;
    return {
      ts,
      soc: est.soc,
      batteryV: r.batteryV,
      solarW: r.solarW,
      windW: r.windW,
      loadW: r.loadW,
      state: this.d.source.rung(),
      batteryTempC: r.batteryTempC,
      autonomyD: Math.min(10_000, est.autonomyD),
      ...(est.timeToEmptyH === undefined ? {} : { timeToEmptyH: est.timeToEmptyH }),
    };
  }

  private linkStatus(ts: number): Omit<Link, 'seq'> | undefined {
    const l = this.d.source.link();
    if (!l) return undefined;
    // What the modem did not say stays out: unknown is not −150 dBm, 0 bars or "not registered".
    return {
      ts,
      type: l.type,
      ...(l.rssiDbm === undefined ? {} : { rssiDbm: Math.max(-150, Math.min(0, l.rssiDbm)) }),
      ...(l.bars === undefined ? {} : { bars: l.bars }),
      ...(l.operator ? { operator: l.operator } : {}),
      bytesMonth: this.d.source.bytesMonth(),
      ...(l.registered === undefined ? {} : { registered: l.registered }),
      ...(l.ports ? { ports: l.ports } : {}),
    };
  }

  /** On the satellite diet the whole status travels as one digest, sized to one SBD message; returns its seq when sent. */
  private reportDigest(ts: number, power: Omit<Power, 'seq'>, force: boolean): number | undefined {
    const { ts: _ts, ...powerFields } = power;
    const fix = this.d.source.fix();
    const link = this.linkStatus(ts);
    const digest = buildDigest(
      {
        ts,
        power: powerFields,
        ...(fix && fix.fix !== 'none' ? { location: { lat: fix.lat, lon: fix.lon, fix: fix.fix } } : {}),
        ...(link
          ? {
              link: {
                type: link.type,
                ...(link.rssiDbm === undefined ? {} : { rssiDbm: link.rssiDbm }),
                ...(link.bars === undefined ? {} : { bars: link.bars }),
                bytesMonth: link.bytesMonth ?? 0,
              },
            }
          : {}),
        nextContactBy: this.d.source.nextContactBy(),
      },
      this.d.source.openAlarms(),
      (d) => encodeUplink('digest', { seq: 0xffffffff, ...d }, 'compact').length,
    );
    if (!force && !shouldReport(this.sent.digest, digest, digestSignificant, this.d.heartbeatMs())) return undefined;
    this.sent.digest = digest;
    return this.d.outbox.enqueue('digest', digest).seq;
  }
}
