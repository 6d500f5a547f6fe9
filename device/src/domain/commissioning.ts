import type { CommissionItem } from '@shouwang/protocol';

/**
 * What "passes" when a technician commissions a unit on site. Each judge turns one measurement
 * into pass/fail and a line the technician can act on; the thresholds are the ones a unit needs
 * to do its job unattended, not the hardware's absolute limits.
 */
const round1 = (x: number) => Math.round(x * 10) / 10;

/** What the GPS part's port and driver have seen, for telling its failures apart. */
export interface GpsDiagnosis {
  path: string;
  baudRate: number;
  state: 'open' | 'silent' | 'closed' | 'failed' | 'absent';
  /** Why the port cannot be opened. */
  error?: string;
  bytes: number;
  sentences: number;
  satellitesInView?: number;
  fix: { fix: 'none' | '2d' | '3d'; sats?: number; hdop?: number } | undefined;
}

/**
 * The GPS check, from the outside in: no port, no bytes, bytes but no sentence (garbage: the
 * wrong baud rate), sentences but no fix (satellites in view: wait; none: the antenna), a fix.
 */
export function judgeGps(d: GpsDiagnosis | undefined): CommissionItem {
  const fail = (detail: string): CommissionItem => ({ check: 'gps', pass: false, detail: detail.slice(0, 160) });
  if (!d || d.state === 'absent') return fail('no GPS on this unit (gps.enabled=false)');
  if (d.state === 'failed') return fail(`port ${d.path} cannot be opened (${d.error ?? 'unknown'}): check gps.path`);
  if (d.bytes === 0 || d.state === 'silent' || d.state === 'closed') {
    return fail(`no data on ${d.path}: check the receiver's power and wiring, and gps.path`);
  }
  if (d.sentences === 0) return fail(`garbage on ${d.path} at ${d.baudRate} Bd: wrong baud rate? set gps.baudRate`);
  const fix = d.fix;
  if (!fix || fix.fix === 'none') {
    return (d.satellitesInView ?? 0) > 0
      ? fail(`no fix yet, ${d.satellitesInView} satellites in view: wait a few minutes under open sky`)
      : fail('receiver talking but no satellites in view: check the antenna, its cable and its view of the sky');
  }
  // HDOP above 5 puts a fix tens of metres off: the geofence alarm would fire on noise.
  const pass = fix.fix === '3d' && (fix.hdop === undefined || fix.hdop <= 5);
  const detail = `${fix.fix} fix, ${fix.sats ?? '?'} satellites, HDOP ${fix.hdop ?? '?'}${pass ? '' : ': wait for a 3D fix with HDOP ≤ 5'}`;
  return { check: 'gps', pass, detail, ...(fix.sats === undefined ? {} : { value: fix.sats }) };
}

/** 1 bar ≈ −105 dBm on LTE: uploads crawl and drop below it. What the modem did not say is unknown, and fails. */
export function judgeSignal(link: {
  type: string;
  rssiDbm?: number;
  bars?: number;
  registered?: boolean;
  operator?: string;
  port?: { state: string; path?: string };
}): CommissionItem {
  const port = link.port;
  if (port && port.state !== 'open') {
    const where = port.path ?? 'its port';
    const detail =
      port.state === 'absent'
        ? 'no modem on this unit (modem.enabled=false)'
        : port.state === 'failed'
          ? `modem port ${where} cannot be opened: check modem.path`
          : `modem silent on ${where}: check its power and modem.path / modem.baudRate`;
    return { check: 'signal', pass: false, detail };
  }
  const dbm = link.rssiDbm === undefined ? 'signal unknown' : `${link.rssiDbm} dBm`;
  const bars = link.bars ?? 0;
  const pass = link.registered === true && bars >= 2;
  const where = link.operator ? ` on ${link.operator}` : '';
  const detail =
    link.registered === true
      ? `${link.type} ${dbm} (${link.bars ?? '?'}/5 bars)${where}${pass ? '' : ': raise the mast or move the unit'}`
      : link.registered === false
        ? `${link.type} not registered (${dbm}): check the SIM and antenna`
        : `registration unknown (${dbm}): the modem did not answer +CEREG/+CREG; check modem.baudRate and its firmware`;
  return { check: 'signal', pass, detail, ...(link.rssiDbm === undefined ? {} : { value: link.rssiDbm }) };
}

/** A pack below 30 % on the day of deployment starts the unit down the power ladder at once. */
export function judgeBattery(battery: { busV: number } | undefined, soc: number | undefined): CommissionItem {
  if (!battery) return { check: 'battery', pass: false, detail: 'battery monitor does not answer on I²C' };
  if (soc === undefined) return { check: 'battery', pass: false, detail: `${round1(battery.busV)} V, charge not yet estimated` };
  const pass = soc >= 30;
  return {
    check: 'battery',
    pass,
    detail: `${round1(soc)} % at ${round1(battery.busV)} V${pass ? '' : ': charge the pack before leaving the unit'}`,
    value: round1(soc),
  };
}

/** Below this the panel gives next to nothing even under a clear sky: its silence proves nothing. */
const DARK_BELOW_DEG = 10;

/**
 * Both sources must answer; some harvest must be flowing, or a panel or turbine may be unplugged.
 * No harvest with the sun below DARK_BELOW_DEG is night and calm, not a fault: the check is
 * pending (units are dropped at emergency scenes at night). Without a fix the sun is not known,
 * and no harvest fails with its caveat.
 */
export function judgeCharge(solar: { powerW: number } | undefined, wind: { powerW: number } | undefined, sunDeg?: number): CommissionItem {
  const missing = [solar ? '' : 'solar', wind ? '' : 'wind'].filter(Boolean);
  if (missing.length > 0) return { check: 'charge', pass: false, detail: `${missing.join(' and ')} monitor does not answer on I²C` };
  const s = Math.max(0, solar?.powerW ?? 0);
  const w = Math.max(0, wind?.powerW ?? 0);
  const measured = `solar ${round1(s)} W, wind ${round1(w)} W`;
  const value = round1(s + w);
  if (s + w >= 0.5) return { check: 'charge', pass: true, detail: measured, value };
  if (sunDeg !== undefined && sunDeg < DARK_BELOW_DEG) {
    const sky = sunDeg < 0 ? `sun ${Math.round(-sunDeg)}° below the horizon` : `sun only ${Math.round(sunDeg)}° up`;
    return {
      check: 'charge',
      pass: false,
      pending: true,
      detail: `${measured}: ${sky} and the turbine still, cannot be judged now: run it again in daylight`,
      value,
    };
  }
  const why =
    sunDeg === undefined
      ? 'no harvest — check the panel and turbine leads (or re-run in daylight)'
      : `no harvest with the sun ${Math.round(sunDeg)}° up — check the panel (snow, shade) and the turbine leads`;
  return { check: 'charge', pass: false, detail: `${measured}: ${why}`, value };
}

/**
 * A charge check the run left pending is judged again once the panel can prove itself: the sun at
 * least as high as the check itself asks, over the unit's own fix (no fix, no sun: wait for one).
 */
export function daylightDue(sunDeg: number | undefined): sunDeg is number {
  return sunDeg !== undefined && sunDeg >= DARK_BELOW_DEG;
}

/** The daylight re-check's verdict, as the commissioning event's reason says it. */
export function daylightReason(item: CommissionItem): string {
  return (
    item.pass ? `daylight re-check: ${item.check} passed, ${item.detail}` : `daylight re-check failed: ${item.check}, ${item.detail}`
  ).slice(0, 200);
}
