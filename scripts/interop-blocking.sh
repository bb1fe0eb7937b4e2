#!/usr/bin/env bash
# Interop of the examples that drive server-proto without an async runtime
# with sockjs-client 1.6.1 over websocket, xhr-streaming, xhr-polling and
# eventsource: sockway/examples/std_blocking.rs (threads and blocking
# sockets) and sockway/examples/mio_loop.rs (one thread, one mio poll).
#
# The examples serve only /echo and /close, so the suite in tests/interop is
# restricted (TEST_PATTERN, matched against test names) to the tests that
# need nothing else: echoes (ASCII, UTF-8, every code unit, 100 KB and 1 MB),
# 500 sends in order, /close, heartbeats, client close; and the raw
# /echo/websocket test of ws.test.js. Tests of /amplify, /broadcast,
# /cookie_needed_echo, /disabled_websocket_echo, /ws and the plain-HTTP
# checks are skipped. The number of tests the pattern selects is checked
# (EXPECT_TESTS): a renamed test fails the run instead of dropping out.
#
# Builds the examples; for each one in turn, starts it on a free loopback
# port with a 500 ms heartbeat, runs tests/interop/run.sh against it (which
# installs the pinned npm packages itself), and stops it. An example must
# still be running after its run, and die of the SIGTERM that stops it (it
# installs no handler: status 143), with no panic in its output. Both are
# run even if the first fails. Bounded by `timeout` throughout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

examples=(std_blocking mio_loop)
heartbeat_ms=500
build=(cargo build --release -q -p sockway --no-default-features)
for example in "${examples[@]}"; do build+=(--example "$example"); done
timeout 20m "${build[@]}"
target_dir="$(timeout 2m cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"

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

# Runs the suite against one example; its status is the run's.
run_example() {
  local name="$1" bin="$target_dir/release/examples/$1" base="" status=0 server_status
  : >"$log"
  timeout 10m "$bin" 127.0.0.1:0 --heartbeat-ms "$heartbeat_ms" >"$log" 2>&1 &
  server_pid=$!

  for _ in $(seq 1 100); do
    base="$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$log" | head -n1)"
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "interop-blocking.sh: $name exited early" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$base" ] || { cat "$log" >&2; echo "interop-blocking.sh: $name did not start" >&2; return 1; }
  echo "interop-blocking.sh: $name at $base" >&2

  HEARTBEAT_MS="$heartbeat_ms" TEST_PATTERN="$pattern" EXPECT_TESTS="$expect" \
    timeout 5m bash tests/interop/run.sh "$base" || status=$?

  # The example must have lived through the run; SIGTERM ends it (no handler).
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
    echo "interop-blocking.sh: $name died during the run (status $server_status); its output:" >&2
    cat "$log" >&2
    return 1
  fi
  kill -TERM "$server_pid"
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "interop-blocking.sh: $name still runs 10 s after SIGTERM" >&2
    status=1
  else
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
    # `timeout` passes the SIGTERM on; the example dies of it.
    if [ "$server_status" -ne 143 ]; then
      echo "interop-blocking.sh: $name exited with status $server_status, not of SIGTERM (143)" >&2
      status=1
    fi
  fi
  if grep -q "panicked" "$log"; then
    echo "interop-blocking.sh: $name panicked" >&2
    status=1
  fi
  if [ "$status" -ne 0 ] || [ "$(wc -l <"$log")" -gt 1 ]; then
    echo "interop-blocking.sh: the output of $name:" >&2
    tail -n 50 "$log" >&2
  fi
  return "$status"
}

status=0
failed=()
for example in "${examples[@]}"; do
  example_status=0
  run_example "$example" || example_status=$?
  if [ "$example_status" -ne 0 ]; then
    status=1
    failed+=("$example")
  else
    echo "interop-blocking.sh: $example passed the $expect tests" >&2
  fi
done
if [ "$status" -ne 0 ]; then
  echo "interop-blocking.sh: failed: ${failed[*]}" >&2
fi
exit "$status"
