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
# checks are skipped. The number of tests the pattern selects is checked
# (EXPECT_TESTS): a renamed test fails the run instead of dropping out.
#
# Builds the example, starts it on a free loopback port with a 500 ms
# heartbeat, runs tests/interop/run.sh against it (which installs the pinned
# npm packages itself), and stops it. The example must still be running
# after the run, and die of the SIGTERM that stops it (it installs no
# handler: status 143), with no panic in its output. Bounded by `timeout`
# throughout.
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

# Test names, anchored (a suite whose name matches would run all its tests):
# those of sockjs-client.test.js that run once per transport (4 of them),
# and those of ws.test.js that run once.
per_transport=(
  'opens on /echo with the asked transport'
  'echoes multi-byte UTF-8'
  'echoes every non-surrogate code unit'
  'echoes 100 KB and 1 MB messages'
  'delivers 500 quick sends in order'
  '/close: the server closes with 3000'
  'heartbeats arrive while idle'
  'client close ends the session'
)
once=('echoes text with no SockJS framing')
transports=4
names=("${per_transport[@]}" "${once[@]}")
pattern="^($(IFS='|'; echo "${names[*]}"))"
expect=$((${#per_transport[@]} * transports + ${#once[@]}))

status=0
HEARTBEAT_MS="$heartbeat_ms" TEST_PATTERN="$pattern" EXPECT_TESTS="$expect" \
  timeout 5m bash tests/interop/run.sh "$base" || status=$?

# The example must have lived through the run; SIGTERM ends it (no handler).
if ! kill -0 "$server_pid" 2>/dev/null; then
  server_status=0
  wait "$server_pid" || server_status=$?
  server_pid=""
  echo "interop-blocking.sh: the example died during the run (status $server_status); its output:" >&2
  cat "$log" >&2
  exit 1
fi
kill -TERM "$server_pid"
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "interop-blocking.sh: the example still runs 10 s after SIGTERM" >&2
  status=1
else
  server_status=0
  wait "$server_pid" || server_status=$?
  server_pid=""
  # `timeout` passes the SIGTERM on; the example dies of it.
  if [ "$server_status" -ne 143 ]; then
    echo "interop-blocking.sh: the example exited with status $server_status, not of SIGTERM (143)" >&2
    status=1
  fi
fi
if grep -q "panicked" "$log"; then
  echo "interop-blocking.sh: the example panicked" >&2
  status=1
fi
if [ "$status" -ne 0 ] || [ "$(wc -l <"$log")" -gt 1 ]; then
  echo "interop-blocking.sh: the example's output:" >&2
  tail -n 50 "$log" >&2
fi
exit "$status"
