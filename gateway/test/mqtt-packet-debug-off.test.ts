import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const hook = fileURLToPath(new URL('../src/mqtt-packet-debug-off.ts', import.meta.url));
const off = fileURLToPath(new URL('../src/debug-off.cjs', import.meta.url));

/** Which `debug` module mqtt-packet's own require() gets in a process started as main.ts starts. */
async function debugSeenByMqttPacket(env: NodeJS.ProcessEnv): Promise<{ file: string; enabled: boolean }> {
  const script = `
    import { createRequire } from 'node:module';
    const req = createRequire(createRequire(${JSON.stringify(hook)}).resolve('mqtt-packet'));
    const d = req('debug')('mqttjs:parser');
    console.log(JSON.stringify({ file: req.resolve('debug'), enabled: d.enabled }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', hook, '--input-type=module', '-e', script], { env });
  return JSON.parse(stdout);
}

test('mqtt-packet gets a do-nothing debug logger unless DEBUG is set', async () => {
  const { DEBUG: _, ...env } = process.env;
  assert.deepEqual(await debugSeenByMqttPacket(env), { file: off, enabled: false });
  const traced = await debugSeenByMqttPacket({ ...env, DEBUG: 'mqttjs*' });
  assert.notEqual(traced.file, off);
  assert.equal(traced.enabled, true);
});
