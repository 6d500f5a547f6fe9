/**
 * The launcher's one decision, run by systemd before every start of the agent
 * (ExecStartPre in shouwang-device.service): counts a trial slot's boots and, once a new release
 * has used up its boots without committing (a crash loop: `Restart=always` alone would restart it
 * forever), points `current` back at the previous slot. It never changes with a release: it is
 * installed once, beside the slots, by install.sh.
 *   node boot-select.mjs <slots dir>
 */
import { bootDecision } from '../src/domain/ota-plan.ts';
import { currentSlot, readBootState, switchTo, writeBootState } from '../src/services/ota-slots.ts';

export function selectBoot(dir: string, now = Date.now()): 'a' | 'b' {
  const current = currentSlot(dir);
  const d = bootDecision(readBootState(dir), current, now);
  if (d.before) writeBootState(dir, d.before);
  if (d.boot !== current) switchTo(dir, d.boot);
  if (d.after) writeBootState(dir, d.after);
  return d.boot;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: boot-select <slots dir>');
    process.exit(2);
  }
  const slot = selectBoot(dir);
  console.log(JSON.stringify({ msg: 'boot slot selected', slot }));
}
