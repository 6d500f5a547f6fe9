// What mqtt-packet gets for `require('debug')` when no DEBUG is set: see mqtt-packet-debug-off.ts.
module.exports = function createDebug() {
  const debug = () => {};
  debug.enabled = false;
  return debug;
};
