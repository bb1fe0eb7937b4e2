#!/usr/bin/env bash
# Interop with real clients: sockjs-client 1.6.1 (websocket, xhr-streaming,
# xhr-polling, eventsource) and the `ws` library, against `sockway serve`.
#
# Builds sockway, starts it on a free loopback port with a 500 ms heartbeat,
# runs tests/interop/run.sh against it (which installs the pinned npm
# packages itself), and stops it. Bounded by `timeout` throughout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

heartbeat_ms=500
timeout 20m cargo build --release -q -p sockway-cli

log="$(mktemp)"
SOCKWAY_LOG=warn timeout 10m target/release/sockway serve --listen 127.0.0.1:0 \
  --heartbeat-time "${heartbeat_ms}ms" >"$log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$log" | head -n1)"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "interop.sh: sockway exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { cat "$log" >&2; echo "interop.sh: sockway did not start" >&2; exit 1; }

HEARTBEAT_MS="$heartbeat_ms" timeout 5m bash tests/interop/run.sh "$base"
