#!/usr/bin/env bash
# Interop of the std-only blocking example (sockway/examples/std_blocking.rs:
# the sans-IO cores driven by threads, no async runtime) with sockjs-client
# 1.6.1 over websocket, xhr-streaming, xhr-polling and eventsource.
#
# The example serves only /echo and /close, so the suite in tests/interop is
# restricted (TEST_PATTERN, matched against test names) to the tests that
# need nothing else: echoes (ASCII, UTF-8, every code unit, 100 KB and 1 MB),
# 500 sends in order, /close, heartbeats, client close; and the raw
# /echo/websocket test of ws.test.js. Tests of /amplify, /broadcast,
# /cookie_needed_echo, /disabled_websocket_echo, /ws and the plain-HTTP
# checks are skipped.
#
# Builds the example, starts it on a free loopback port with a 500 ms
# heartbeat, runs tests/interop/run.sh against it (which installs the pinned
# npm packages itself), and stops it. Bounded by `timeout` throughout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

heartbeat_ms=500
timeout 20m cargo build --release -q -p sockway --example std_blocking --no-default-features
target_dir="$(timeout 2m cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/release/examples/std_blocking"

log="$(mktemp)"
server_pid=""
# shellcheck disable=SC2317 # (called by the trap)
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timeout 10m "$bin" 127.0.0.1:0 --heartbeat-ms "$heartbeat_ms" >"$log" 2>&1 &
server_pid=$!

base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$log" | head -n1)"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "interop-blocking.sh: the example exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { cat "$log" >&2; echo "interop-blocking.sh: the example did not start" >&2; exit 1; }
echo "interop-blocking.sh: std_blocking at $base" >&2

# Test names, anchored (a suite whose name matches would run all its tests).
pattern='^(opens on /echo with the asked transport|echoes multi-byte UTF-8|echoes every non-surrogate code unit|echoes 100 KB and 1 MB messages|delivers 500 quick sends in order|/close: the server closes with 3000|heartbeats arrive while idle|client close ends the session|echoes text with no SockJS framing)'

status=0
HEARTBEAT_MS="$heartbeat_ms" TEST_PATTERN="$pattern" timeout 5m bash tests/interop/run.sh "$base" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "interop-blocking.sh: the example died during the run; its output:" >&2
  cat "$log" >&2
  status=1
elif [ -s "$log" ] && [ "$(wc -l <"$log")" -gt 1 ]; then
  echo "interop-blocking.sh: the example's output:" >&2
  tail -n 50 "$log" >&2
fi
exit "$status"
