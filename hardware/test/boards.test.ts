import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BOARDS, boardDefinition, openBoard, validateBoard } from '../src/index.ts';

test('every shipped board definition passes the schema and keeps the four monitors on distinct addresses', () => {
  for (const id of Object.keys(BOARDS)) {
    const def = boardDefinition(id);
    assert.equal(def.id, id);
    assert.deepEqual(def.monitors.map((m) => m.name).sort(), ['battery', 'load', 'solar', 'wind']);
    assert.equal(new Set(def.monitors.map((m) => m.address)).size, def.monitors.length);
    assert.notEqual(def.tamperPin, def.motionPin);
    assert.notEqual(def.gps.path, def.modem.path);
  }
});

test('a malformed definition is refused naming every bad field; an unknown board names the known ones', () => {
  const bad = { ...BOARDS.pi4, monitors: [{ ...BOARDS.pi4.monitors[0], address: 0x70 }], gps: { path: '', baudRate: 9600 } };
  assert.throws(
    () => validateBoard(bad),
    (err: Error) => /\/monitors\/0\/address/.test(err.message) && /\/gps\/path/.test(err.message),
  );
  assert.throws(() => boardDefinition('pi5'), /unknown board "pi5"; known: pi4, cm4, zero2w/);
});

test('real mode without the board IO plugin fails with the package to install, before any serial port opens', async () => {
  await assert.rejects(
    openBoard(BOARDS.pi4, { mode: 'real' }),
    /IO plugin "raspi-io" for Raspberry Pi 4 Model B is not installed \(on the unit: npm install raspi-io\)/,
  );
});
