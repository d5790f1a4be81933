# Shared by scripts/peers/*: a private redis-server, node-resque (and nodemailer, for the
# email benchmark) from npm in a temp folder,
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
  (cd "$WORK" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund node-resque@9.7.1 nodemailer@6.10.1 >/dev/null) \
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

# start_sink: our SMTP sink (mailer-sink, built with the workspace) on a free port, so ours and
# node-resque's workers send to the same server; sets SMTP_PORT and SMTP_URL (not exported:
# our binary gets it only where a run passes it). Its per-mail log
# lines are off (RUST_LOG=warn): at thousands of mails a second they would cost more than the mail.
start_sink() {
  (cd "$ROOT" && cargo build -q --release -p mailer --bin mailer-sink) || fail "building mailer-sink"
  SMTP_PORT="$(free_port)"
  RUST_LOG=warn NO_COLOR=1 "${CARGO_TARGET_DIR:-$ROOT/target}/release/mailer-sink" \
    --port "$SMTP_PORT" >"$WORK/sink.log" 2>&1 &
  PIDS+=($!)
  SINK_PID=$!
  for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && break; sleep 0.1; done
  (echo >"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null || { cat "$WORK/sink.log" >&2; fail "mailer-sink did not listen"; }
  SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
}

# command_calls: Redis's `INFO commandstats` as "name calls" lines, INFO itself left out.
command_calls() {
  rcli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\).*/\1 \2/p' | grep -v '^info '
}

# commands_per_job BEFORE AFTER N: the commands Redis ran between two command_calls, per job:
# "total: name n, name n".
commands_per_job() {
  awk -v n="$3" 'NR == FNR { before[$1] = $2; next }
    { d = ($2 - before[$1]) / n; if (d > 0.005) { total += d; parts = parts sprintf("%s%s %.2f", sep, $1, d); sep = ", " } }
    END { printf "%.2f: %s\n", total, parts }' <(echo "$1") <(echo "$2")
}
