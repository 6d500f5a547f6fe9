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

test('real mode opens part by part: without the IO plugin the board still opens, and a missing serial port fails alone, naming its path', async () => {
  const b = await openBoard({ ...BOARDS.pi4, gps: { path: '/dev/shouwang-no-such-gps', baudRate: 38_400 } }, { mode: 'real' });
  try {
    assert.ok(b.io instanceof Error);
    assert.match(b.io.message, /IO plugin "raspi-io" for Raspberry Pi 4 Model B is not installed \(on the unit: npm install raspi-io\)/);
    assert.equal(b.gps.baudRate, 38_400);
    await assert.rejects(b.gps.open(), /cannot open \/dev\/shouwang-no-such-gps/);
    assert.throws(() => b.gps.stream, /has not been opened/);
  } finally {
    await b.close();
  }
});
