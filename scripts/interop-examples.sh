#!/usr/bin/env bash
# Interop of the facade's serving examples with sockjs-client 1.6.1 over
# websocket, xhr-streaming, xhr-polling and eventsource, and with the `ws`
# library:
#
#   std_blocking  server-proto on threads and blocking sockets
#   mio_loop      server-proto on one thread and one mio poll
#   uring_loop    server-proto on one thread and one io_uring (Linux)
#   axum_app      the endpoints mounted in an axum application (REST
#                 routes, static files, an authenticated chat, a public
#                 SockJS echo at /echo, a raw WebSocket echo at /ws)
#
#   scripts/interop-examples.sh                 all four
#   scripts/interop-examples.sh axum_app        these
#
# The examples serve /echo (and the first three /close), so the suite in
# tests/interop is restricted (TEST_PATTERN, matched against test names)
# to the tests that need nothing else: echoes (ASCII, UTF-8, every code
# unit, 100 KB and 1 MB), 500 sends in order, client close and the raw
# /echo/websocket test of ws.test.js; with /close and heartbeats (500 ms)
# for the first three. Tests of /amplify, /broadcast, /cookie_needed_echo,
# /disabled_websocket_echo, /ws and the plain-HTTP checks are skipped. The
# number of tests the pattern selects is checked (EXPECT_TESTS): a renamed
# test fails the run instead of dropping out. (The chat's cookie
# authentication is tested in sockway/tests/axum_app.rs and in Chromium.)
#
# Builds the examples; for each one in turn, starts it on a free loopback
# port, runs tests/interop/run.sh against it (which installs the pinned npm
# packages itself), and stops it. An example must still be running after
# its run and stop as it should: the first three install no handler and die
# of SIGTERM (status 143); axum_app shuts down gracefully on SIGINT
# (status 0). No panic in the output. Every example is run even if one
# fails. Bounded by `timeout` throughout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

examples=("$@")
[ ${#examples[@]} -gt 0 ] || examples=(std_blocking mio_loop uring_loop axum_app)
heartbeat_ms=500

# Per example: its features, its arguments after the address, the signal
# that stops it and the status it then exits with.
features() { [ "$1" = axum_app ] && echo "--features axum" || echo "--no-default-features"; }
extra_args() { [ "$1" = axum_app ] || echo "--heartbeat-ms $heartbeat_ms"; }
stop_signal() { [ "$1" = axum_app ] && echo INT || echo TERM; }
stop_status() { [ "$1" = axum_app ] && echo 0 || echo 143; }

# shellcheck source=scripts/test-profile.sh
. "$root/scripts/test-profile.sh"
for example in "${examples[@]}"; do
  case "$example" in
    std_blocking | mio_loop | uring_loop | axum_app) ;;
    *) echo "interop-examples.sh: unknown example $example" >&2; exit 2 ;;
  esac
  # shellcheck disable=SC2046 # the features are split on purpose
  timeout 20m cargo build --profile "$test_profile" -q -p sockway $(features "$example") --example "$example"
done

# Test names, anchored (a suite whose name matches would run all its tests):
# those of sockjs-client.test.js that run once per transport (4 of them),
# and those of ws.test.js that run once.
echo_tests=(
  'opens on /echo with the asked transport'
  'echoes multi-byte UTF-8'
  'echoes every non-surrogate code unit'
  'echoes 100 KB and 1 MB messages'
  'delivers 500 quick sends in order'
  'client close ends the session'
)
# Only where /close is served and heartbeats come every 500 ms.
close_tests=(
  '/close: the server closes with 3000'
  'heartbeats arrive while idle'
)
once=('echoes text with no SockJS framing')
transports=4

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
  local name="$1" bin="$test_bin_dir/examples/$1" base="" status=0 server_status
  local per_transport=("${echo_tests[@]}") heartbeat=25000
  if [ "$name" != axum_app ]; then
    per_transport+=("${close_tests[@]}")
    heartbeat="$heartbeat_ms"
  fi
  local names=("${per_transport[@]}" "${once[@]}")
  local pattern expect signal expected_status
  pattern="^($(IFS='|'; echo "${names[*]}"))"
  expect=$((${#per_transport[@]} * transports + ${#once[@]}))
  signal="$(stop_signal "$name")"
  expected_status="$(stop_status "$name")"
  : >"$log"
  # shellcheck disable=SC2046 # the arguments are split on purpose
  timeout 10m "$bin" 127.0.0.1:0 $(extra_args "$name") >"$log" 2>&1 &
  server_pid=$!

  for _ in $(seq 1 100); do
    base="$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$log" | head -n1)"
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "interop-examples.sh: $name exited early" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$base" ] || { cat "$log" >&2; echo "interop-examples.sh: $name did not start" >&2; return 1; }
  echo "interop-examples.sh: $name at $base" >&2

  HEARTBEAT_MS="$heartbeat" TEST_PATTERN="$pattern" EXPECT_TESTS="$expect" \
    timeout 5m bash tests/interop/run.sh "$base" || status=$?

  # The example must have lived through the run.
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
    echo "interop-examples.sh: $name died during the run (status $server_status); its output:" >&2
    cat "$log" >&2
    return 1
  fi
  # `timeout` passes the signal on.
  kill -"$signal" "$server_pid"
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "interop-examples.sh: $name still runs 10 s after SIG$signal" >&2
    status=1
  else
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
    if [ "$server_status" -ne "$expected_status" ]; then
      echo "interop-examples.sh: $name exited with status $server_status after SIG$signal, not $expected_status" >&2
      status=1
    fi
  fi
  if grep -q "panicked" "$log"; then
    echo "interop-examples.sh: $name panicked" >&2
    status=1
  fi
  if [ "$status" -ne 0 ] || [ "$(wc -l <"$log")" -gt 1 ]; then
    echo "interop-examples.sh: the output of $name:" >&2
    tail -n 50 "$log" >&2
  fi
  [ "$status" -eq 0 ] && echo "interop-examples.sh: $name passed the $expect tests" >&2
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
  fi
done
if [ "$status" -ne 0 ]; then
  echo "interop-examples.sh: failed: ${failed[*]}" >&2
fi
exit "$status"
