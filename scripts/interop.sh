#!/usr/bin/env bash
# Interop with real clients: sockjs-client 1.6.1 (websocket, xhr-streaming,
# xhr-polling, eventsource) and the `ws` library, against `sockway serve`;
# then sockway's WebSocket client against the `ws` library's server.
#
# Builds sockway, starts it on a free loopback port with a 500 ms heartbeat,
# runs tests/interop/run.sh against it (which installs the pinned npm
# packages itself), and stops it. Then starts tests/interop/ws-echo-server.js
# on a free port and runs the ignored tests of
# tests/tests/ws_client_interop.rs against it (WS_ECHO_URL). Bounded by
# `timeout` throughout; the servers are stopped on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

heartbeat_ms=500
timeout 20m cargo build --release -q -p sockway-cli

log="$(mktemp)"
SOCKWAY_LOG=warn timeout 10m "${CARGO_TARGET_DIR:-$root/target}/release/sockway" serve --listen 127.0.0.1:0 \
  --heartbeat-time "${heartbeat_ms}ms" >"$log" 2>&1 &
server_pid=$!
echo_pid=""
echo_log=""
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  if [ -n "$echo_pid" ]; then
    kill "$echo_pid" 2>/dev/null || true
    wait "$echo_pid" 2>/dev/null || true
  fi
  rm -f "$log" ${echo_log:+"$echo_log"}
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

# sockway's WebSocket client against the `ws` echo server. run.sh above has
# installed the npm packages. Build the tests first, so that the server's
# lifetime covers only the run.
timeout 20m cargo test --release -q -p sockway-tests --test ws_client_interop --no-run
echo_log="$(mktemp)"
timeout 10m node tests/interop/ws-echo-server.js --listen 127.0.0.1:0 >"$echo_log" 2>&1 &
echo_pid=$!
echo_url=""
for _ in $(seq 1 100); do
  echo_url="$(sed -n 's/^listening on \(ws:\/\/[0-9.:]*\)$/\1/p' "$echo_log" | head -n1)"
  [ -n "$echo_url" ] && break
  kill -0 "$echo_pid" 2>/dev/null || { cat "$echo_log" >&2; echo "interop.sh: ws-echo-server exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$echo_url" ] || { cat "$echo_log" >&2; echo "interop.sh: ws-echo-server did not start" >&2; exit 1; }
echo "interop.sh: sockway's client against ws-echo-server.js at $echo_url" >&2
WS_ECHO_URL="$echo_url" timeout 10m cargo test --release -q -p sockway-tests \
  --test ws_client_interop -- --ignored
