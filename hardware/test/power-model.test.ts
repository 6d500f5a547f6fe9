import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Environment, SCENARIOS } from '../src/sim/environment.ts';
import { airDensity, capacityFactor, DEFAULT_POWER, PowerModel, panelW, turbineW } from '../src/sim/power.ts';
import { sunElevationDeg } from '../src/sky.ts';

const HARBIN = { lat: 45.75, lon: 126.63 };

test('December sun over Harbin: under 9 h of daylight, noon elevation about 21°', () => {
  const day = Date.UTC(2026, 11, 21);
  let daylightMin = 0;
  let max = -90;
  for (let m = 0; m < 1440; m++) {
    const e = sunElevationDeg(day + m * 60_000, HARBIN.lat, HARBIN.lon);
    if (e > 0) daylightMin++;
    max = Math.max(max, e);
  }
  assert.ok(daylightMin / 60 < 9 && daylightMin / 60 > 8, `${daylightMin / 60} h`);
  assert.ok(Math.abs(max - 20.8) < 1, `${max}°`);
});

test('a ~50 W roof panel harvests roughly 11–30 Wh a day in a Harbin December (stack-notes figure)', () => {
  const env = new Environment(SCENARIOS['harbin-winter'], HARBIN, 42);
  const start = Date.UTC(2026, 11, 1);
  let wh = 0;
  const days = 14;
  for (let s = 0; s < days * 86_400; s += 60) wh += (panelW(DEFAULT_POWER.panelPeakW, env.at(start + s * 1000).irradiance) * 60) / 3600;
  const perDay = wh / days;
  assert.ok(perDay > 11 && perDay < 30, `${perDay.toFixed(1)} Wh/day`);
});

test('wind: P = ½ρAv³Cp, denser cold air, ~5 W at 5 m/s on a 0.5 m rotor', () => {
  assert.ok(Math.abs(airDensity(-30) - 1.45) < 0.01);
  const w = turbineW(DEFAULT_POWER.rotor, 5, -30);
  assert.ok(w > 4.5 && w < 6, `${w} W`);
  assert.equal(turbineW(DEFAULT_POWER.rotor, 2, -30), 0, 'below cut-in');
});

test('cold derating: ~70 % of capacity at −20 °C; a frozen pack charges only after its heater', () => {
  assert.ok(Math.abs(capacityFactor(-20) - 0.7) < 0.01);
  const m = new PowerModel(DEFAULT_POWER, 50);
  const sunny = { sunElevationDeg: 30, irradiance: 600, cloud: 0, windMps: 0, tempC: -25 };
  const p = m.step(3600, sunny, 3);
  assert.equal(p.heaterW, DEFAULT_POWER.heaterW);
  assert.ok(p.batteryW < panelW(50, 600) - 3, 'the heater took its share first');
});

test('the always-on load drains the pack through a Harbin winter night', () => {
  const m = new PowerModel(DEFAULT_POWER, 50);
  const night = { sunElevationDeg: -30, irradiance: 0, cloud: 1, windMps: 1, tempC: -28 };
  const before = m.step(1, night, 6.5).storedWh;
  const after = m.step(16 * 3600, night, 6.5).storedWh;
  assert.ok(Math.abs(before - after - 6.5 * 16) < 1, `${before - after} Wh`);
});
