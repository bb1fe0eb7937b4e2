#!/usr/bin/env bash
# Interop of the axum example application (sockway/examples/axum_app.rs:
# REST routes, static files, an authenticated SockJS chat, a public SockJS
# echo at /echo and a raw WebSocket echo at /ws, mounted in one axum
# Router) with sockjs-client 1.6.1 over websocket, xhr-streaming,
# xhr-polling and eventsource, and with the `ws` library.
#
# The application serves /echo with default options (25 s heartbeats) and
# no /close endpoint, so the suite in tests/interop is restricted
# (TEST_PATTERN, matched against test names) to the tests of /echo that
# need nothing else: echoes (ASCII, UTF-8, every code unit, 100 KB and
# 1 MB), 500 sends in order, client close, and the raw /echo/websocket test
# of ws.test.js. The number of tests the pattern selects is checked
# (EXPECT_TESTS): a renamed test fails the run instead of dropping out.
# The chat's cookie authentication is tested in sockway/tests/axum_app.rs.
#
# Builds the example, starts it on a free loopback port, runs
# tests/interop/run.sh against it (which installs the pinned npm packages
# itself), then stops it with SIGINT: it must still be running, shut down
# gracefully (status 0) within 10 s, and have logged no panic. Bounded by
# `timeout` throughout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

timeout 20m cargo build --release -q -p sockway --features axum --example axum_app
target_dir="$(timeout 2m cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/release/examples/axum_app"

per_transport=(
  'opens on /echo with the asked transport'
  'echoes multi-byte UTF-8'
  'echoes every non-surrogate code unit'
  'echoes 100 KB and 1 MB messages'
  'delivers 500 quick sends in order'
  'client close ends the session'
)
once=('echoes text with no SockJS framing')
transports=4
names=("${per_transport[@]}" "${once[@]}")
pattern="^($(IFS='|'; echo "${names[*]}"))"
expect=$((${#per_transport[@]} * transports + ${#once[@]}))

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

"$bin" 127.0.0.1:0 >"$log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$log" | head -n1)"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "interop-axum-app.sh: exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { cat "$log" >&2; echo "interop-axum-app.sh: did not start" >&2; exit 1; }
echo "interop-axum-app.sh: axum_app at $base" >&2

status=0
# HEARTBEAT_MS is the app's (25 s): no heartbeat test is selected.
HEARTBEAT_MS=25000 TEST_PATTERN="$pattern" EXPECT_TESTS="$expect" \
  timeout 5m bash tests/interop/run.sh "$base" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  server_status=0
  wait "$server_pid" || server_status=$?
  server_pid=""
  cat "$log" >&2
  echo "interop-axum-app.sh: axum_app died during the run (status $server_status)" >&2
  exit 1
fi
kill -INT "$server_pid"
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "interop-axum-app.sh: axum_app still runs 10 s after SIGINT" >&2
  status=1
else
  server_status=0
  wait "$server_pid" || server_status=$?
  server_pid=""
  if [ "$server_status" -ne 0 ]; then
    echo "interop-axum-app.sh: axum_app exited with status $server_status after SIGINT" >&2
    status=1
  fi
fi
if grep -q "panicked" "$log"; then
  echo "interop-axum-app.sh: axum_app panicked" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "interop-axum-app.sh: axum_app passed the $expect tests" >&2
exit "$status"
