import type { CommissionItem } from '@shouwang/protocol';

/**
 * What "passes" when a technician commissions a unit on site. Each judge turns one measurement
 * into pass/fail and a line the technician can act on; the thresholds are the ones a unit needs
 * to do its job unattended, not the hardware's absolute limits.
 */
const round1 = (x: number) => Math.round(x * 10) / 10;

export function judgeGps(fix: { fix: 'none' | '2d' | '3d'; sats?: number; hdop?: number } | undefined): CommissionItem {
  if (!fix || fix.fix === 'none') return { check: 'gps', pass: false, detail: 'no fix: check the antenna has open sky' };
  // HDOP above 5 puts a fix tens of metres off: the geofence alarm would fire on noise.
  const pass = fix.fix === '3d' && (fix.hdop === undefined || fix.hdop <= 5);
  const detail = `${fix.fix} fix, ${fix.sats ?? '?'} satellites, HDOP ${fix.hdop ?? '?'}${pass ? '' : ': wait for a 3D fix with HDOP ≤ 5'}`;
  return { check: 'gps', pass, detail, ...(fix.sats === undefined ? {} : { value: fix.sats }) };
}

/** 1 bar ≈ −105 dBm on LTE: uploads crawl and drop below it. */
export function judgeSignal(link: { type: string; rssiDbm: number; bars: number; registered: boolean; operator?: string }): CommissionItem {
  const pass = link.registered && link.bars >= 2;
  const where = link.operator ? ` on ${link.operator}` : '';
  const detail = link.registered
    ? `${link.type} ${link.rssiDbm} dBm (${link.bars}/5 bars)${where}${pass ? '' : ': raise the mast or move the unit'}`
    : `${link.type} not registered (${link.rssiDbm} dBm): check the SIM and antenna`;
  return { check: 'signal', pass, detail, value: link.rssiDbm };
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

/** Both sources must answer; some harvest must be flowing, or a panel or turbine may be unplugged. */
export function judgeCharge(solar: { powerW: number } | undefined, wind: { powerW: number } | undefined): CommissionItem {
  const missing = [solar ? '' : 'solar', wind ? '' : 'wind'].filter(Boolean);
  if (missing.length > 0) return { check: 'charge', pass: false, detail: `${missing.join(' and ')} monitor does not answer on I²C` };
  const s = Math.max(0, solar?.powerW ?? 0);
  const w = Math.max(0, wind?.powerW ?? 0);
  const pass = s + w >= 0.5;
  const detail = `solar ${round1(s)} W, wind ${round1(w)} W${pass ? '' : ': no harvest — check the panel and turbine leads (or re-run in daylight)'}`;
  return { check: 'charge', pass, detail, value: round1(s + w) };
}
