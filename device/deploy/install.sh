#!/usr/bin/env bash
# Installs the Shouwang device agent on Raspberry Pi OS (Bookworm, arm64 or armhf).
# Run on the Pi as root, from a checkout or an unpacked release that contains device/deploy/:
#   sudo device/deploy/install.sh [--bundle agent.mjs] [--config /path/to/device.json] [--trusted-keys trusted-keys.json]
# What it does: installs Node 24 from the npm registry's node-linux-<arch> package (no TypeScript
# tooling on the unit), enables I²C and the serial port, creates the service user, installs the
# prebuilt agent bundle (agent.mjs and its launcher boot-select.mjs, built off-device with
# `node device/deploy/build.ts` into .data/deploy/) into slot a of /opt/shouwang/slots, the config
# and the systemd unit, and starts it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
config=""
trusted=""
bundle="$here/../../.data/deploy/agent.mjs"
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --bundle) bundle="$2"; shift 2 ;;
    --trusted-keys) trusted="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
[ -f "$bundle" ] || { echo "missing $bundle: build it first with 'node device/deploy/build.ts'" >&2; exit 1; }

case "$(uname -m)" in
  aarch64) arch=arm64 ;;
  armv7l) arch=armv7l ;;
  x86_64) arch=x64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

apt-get update -q
# build-essential and pigpio: raspi-io (the boards' johnny-five IO plugin) compiles its pigpio binding here.
apt-get install -y -q npm ffmpeg i2c-tools build-essential pigpio
if ! /opt/shouwang/node/bin/node --version 2>/dev/null | grep -q '^v24\.'; then
  npm install --prefix /opt/shouwang/node-pkg --no-audit --no-fund "node-linux-${arch}@24"
  ln -sfn "/opt/shouwang/node-pkg/node_modules/node-linux-${arch}" /opt/shouwang/node
fi

# I²C for the power monitors, the UART for GNSS, no login shell on the serial port.
if command -v raspi-config >/dev/null; then
  raspi-config nonint do_i2c 0
  raspi-config nonint do_serial_hw 0
  raspi-config nonint do_serial_cons 1
fi

id shouwang >/dev/null 2>&1 || useradd --system --home /var/lib/shouwang --shell /usr/sbin/nologin shouwang
usermod -a -G dialout,i2c,gpio,video shouwang

install -d -o root -g root -m 0755 /opt/shouwang
# A/B slots owned by the agent (it installs updates into the idle one); the launcher stays root's.
install -m 0644 "$(dirname "$bundle")/boot-select.mjs" /opt/shouwang/boot-select.mjs
install -d -o shouwang -g shouwang -m 0755 /opt/shouwang/slots /opt/shouwang/slots/a
if [ ! -L /opt/shouwang/slots/current ]; then
  install -o shouwang -g shouwang -m 0644 "$bundle" /opt/shouwang/slots/a/agent.mjs
  ln -sfn a /opt/shouwang/slots/current
  chown -h shouwang:shouwang /opt/shouwang/slots/current
fi
# The bundle keeps native addons outside (built per architecture): serialport's prebuilt binding for
# this Pi, and the IO plugin every board definition names (hardware/src/boards/parts.ts RASPI_IO),
# which the agent loads by name. Without it the agent still runs GPS, modem and camera and says
# once that the power monitors and sensors are unavailable.
PATH="/opt/shouwang/node/bin:$PATH" npm install --prefix /opt/shouwang --no-audit --no-fund --omit=dev serialport@13 raspi-io@11
install -d -o root -g shouwang -m 0750 /etc/shouwang
if [ -n "$config" ]; then
  install -o root -g shouwang -m 0640 "$config" /etc/shouwang/device.json
elif [ ! -f /etc/shouwang/device.json ]; then
  echo "no /etc/shouwang/device.json and no --config given: write one with at least unitId and mqtt.password" >&2
  exit 1
fi

# The stock talk-down messages (device/stock, <dataDir>/stock by default); recorded voices an operator
# installed there are kept.
install -d -o shouwang -g shouwang -m 0755 /var/lib/shouwang/stock
for f in "$here"/../stock/*.ogg; do
  [ -e "/var/lib/shouwang/stock/$(basename "$f")" ] || install -o shouwang -g shouwang -m 0644 "$f" /var/lib/shouwang/stock/
done

# Release signing keys the unit trusts (./dev release keygen writes this file); without it every update is refused.
[ -n "$trusted" ] && install -o root -g shouwang -m 0640 "$trusted" /etc/shouwang/trusted-keys.json
sed 's#/usr/bin/node#/opt/shouwang/node/bin/node#' "$here/shouwang-device.service" >/etc/systemd/system/shouwang-device.service
systemctl daemon-reload
systemctl enable --now shouwang-device.service
systemctl --no-pager status shouwang-device.service || true
