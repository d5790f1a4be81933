# Shared by scripts/peers/*: a private redis-server, node-resque from npm in a temp folder,
# our binary, and helpers. Source it; it cleans up on exit.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d -t offload-peers-XXXXXX)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# free_port: a port nothing listens on, below the kernel's ephemeral range (where any
# outgoing connection may take a port between this check and our bind).
free_port() {
  local port lowest
  lowest="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  while :; do
    port=$((10000 + RANDOM % (lowest - 10000)))
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

start_redis() {
  REDIS_PORT="$(free_port)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
  PIDS+=($!)
  # A loaded machine can take seconds to start it: wait up to 30 s, and on failure show its
  # log, which the cleanup would otherwise delete.
  for _ in $(seq 300); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "--- redis.log ---" >&2; cat "$WORK/redis.log" >&2 2>/dev/null || echo "(no log)" >&2
    fail "redis-server did not answer PING within 30 s on port $REDIS_PORT"
  fi
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"
  export REDIS_URL
}

install_node_resque() {
  command -v node >/dev/null || fail "node is not installed"
  cp "$ROOT/scripts/peers/peer.js" "$WORK/"
  (cd "$WORK" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund node-resque@9.7.1 >/dev/null) \
    || fail "npm install node-resque failed"
}

peer() { node "$WORK/peer.js" "$REDIS_PORT" "$@"; }

# build_ours [release]: builds strategy-5 and sets BIN.
build_ours() {
  local profile="debug" flag=()
  if [ "${1:-}" = release ]; then profile="release"; flag=(--release); fi
  (cd "$ROOT" && cargo build -q -p strategy-5 "${flag[@]}") || fail "cargo build failed"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$profile/strategy-5"
}

# start_ours LOGNAME ARGS...: runs our binary in the background, output in $WORK/LOGNAME.log.
start_ours() {
  local name="$1"; shift
  RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1 "$BIN" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

# wait_for_log LOGNAME NEEDLE [SECONDS]: generous by default (60 s), since a loaded machine
# is slow to start a process; shows the log on failure.
wait_for_log() {
  local deadline=$((SECONDS + ${3:-60}))
  while [ $SECONDS -lt $deadline ]; do
    grep -qF -- "$2" "$WORK/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $1.log ---" >&2; cat "$WORK/$1.log" >&2
  fail "no '$2' in $1.log"
}

rcli() { redis-cli -p "$REDIS_PORT" --raw "$@"; }
