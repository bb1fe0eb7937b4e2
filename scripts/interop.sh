#!/usr/bin/env bash
# Interop with real clients: sockjs-client 1.6.1 (websocket, xhr-streaming,
# xhr-polling, eventsource) and the `ws` library, against `sockway serve` on
# every runtime (tokio, async-std, smol); then sockway's WebSocket clients
# against the `ws` library's server.
#
#   scripts/interop.sh                      every runtime
#   scripts/interop.sh tokio smol           these runtimes
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

runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(tokio async-std smol)
heartbeat_ms=500
timeout 20m cargo build --release -q -p sockway-cli

server_pid=""
log=""
echo_pid=""
echo_log=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  if [ -n "$echo_pid" ]; then
    kill "$echo_pid" 2>/dev/null || true
    wait "$echo_pid" 2>/dev/null || true
  fi
  rm -f ${log:+"$log"} ${echo_log:+"$echo_log"}
}
trap cleanup EXIT

# Waits for "listening on <scheme>://ADDR" in file $1 from process $2.
wait_listening() {
  local file="$1" pid="$2" scheme="$3" url=""
  for _ in $(seq 1 100); do
    url="$(sed -n "s/^listening on \\(${scheme}:\\/\\/[0-9.:]*\\)\$/\\1/p" "$file" | head -n1)"
    [ -n "$url" ] && { echo "$url"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; echo "interop.sh: server exited early" >&2; return 1; }
    sleep 0.1
  done
  cat "$file" >&2
  echo "interop.sh: server did not start" >&2
  return 1
}

log="$(mktemp)"
for runtime in "${runtimes[@]}"; do
  echo "interop.sh: sockjs-client and ws against sockway serve --runtime $runtime" >&2
  SOCKWAY_LOG=warn timeout 10m "${CARGO_TARGET_DIR:-$root/target}/release/sockway" serve \
    --listen 127.0.0.1:0 --heartbeat-time "${heartbeat_ms}ms" --runtime "$runtime" >"$log" 2>&1 &
  server_pid=$!
  base="$(wait_listening "$log" "$server_pid" http)"
  HEARTBEAT_MS="$heartbeat_ms" timeout 5m bash tests/interop/run.sh "$base"
  stop_server
done

# sockway's WebSocket clients against the `ws` echo server. run.sh above has
# installed the npm packages. Build the tests first (the debug build that
# `cargo test --workspace` made), so that the server's lifetime covers only
# the run.
timeout 20m cargo test -q -p sockway-tests --test ws_client_interop --no-run
echo_log="$(mktemp)"
timeout 10m node tests/interop/ws-echo-server.js --listen 127.0.0.1:0 >"$echo_log" 2>&1 &
echo_pid=$!
echo_url="$(wait_listening "$echo_log" "$echo_pid" ws)"
echo "interop.sh: sockway's clients against ws-echo-server.js at $echo_url" >&2
WS_ECHO_URL="$echo_url" timeout 10m cargo test -q -p sockway-tests \
  --test ws_client_interop -- --ignored
