/**
 * node-cron 4 reads every date it matches through `Intl.DateTimeFormat#formatToParts`, even with no
 * time zone given (then the process's own): the first formatter pages ICU's locale and calendar data
 * in from the node binary, 8 MB of RSS on a unit that has 64 to spend. With no `timezone` option
 * node-cron means the process's local time, which `Date`'s own getters give without ICU's formatter.
 * The unit's bundle therefore patches that one case; a zone passed explicitly still goes through Intl.
 * device/test/node-cron-local-time.test.ts holds the patched reading to node-cron's own across zones
 * and daylight-saving changes. The build fails if node-cron's code no longer has the function it patches.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

const ANCHOR = 'function buildDateParts(date, timezone) {';

// Same shape as node-cron's parts: numbers for the fields, an English short weekday, and a lazy
// `gmt` in the form its `getTimezoneGMT` returns ('Z' or 'GMT+08:00').
const LOCAL_PARTS = `const __swWeekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
function __swLocalParts(date) {
    const result = {
        day: date.getDate(),
        month: date.getMonth() + 1,
        year: date.getFullYear(),
        hour: date.getHours(),
        minute: date.getMinutes(),
        second: date.getSeconds(),
        millisecond: date.getMilliseconds(),
        weekday: __swWeekdays[date.getDay()]
    };
    Object.defineProperty(result, 'gmt', {
        enumerable: true,
        configurable: true,
        get() {
            const east = -date.getTimezoneOffset();
            if (east === 0)
                return 'Z';
            const abs = Math.abs(east);
            return 'GMT' + (east > 0 ? '+' : '-') + String(Math.floor(abs / 60)).padStart(2, '0') + ':' + String(abs % 60).padStart(2, '0');
        }
    });
    return result;
}
`;

/** node-cron's `_shared.js` with local-time parts read from `Date` when no zone is given. */
export function patchNodeCron(source: string): string {
  if (!source.includes(ANCHOR)) throw new Error(`node-cron: "${ANCHOR}" not found; re-check device/deploy/node-cron-local-time.ts`);
  return source.replace(ANCHOR, `${LOCAL_PARTS}${ANCHOR}\n    if (timezone === undefined)\n        return __swLocalParts(date);`);
}

export const nodeCronLocalTime: Plugin = {
  name: 'node-cron-local-time',
  setup(b) {
    b.onLoad({ filter: /[\\/]node-cron[\\/]dist[\\/]_shared\.js$/ }, async (args) => ({
      contents: patchNodeCron(await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};
