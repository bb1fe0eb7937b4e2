#!/usr/bin/env bash
# Interop with real clients: sockjs-client 1.6.1 (websocket, xhr-streaming,
# xhr-polling, eventsource) and the `ws` library, against `sockway serve` on
# every runtime (tokio, async-std, smol) and mounted in the HTTP stacks
# (axum: `--stack axum`, plain hyper: `--stack hyper`); then sockway's
# WebSocket clients against the `ws` library's server.
#
#   scripts/interop.sh                      every runtime and stack
#   scripts/interop.sh tokio axum           these
#
# Builds sockway, starts it on a free loopback port with a 500 ms heartbeat,
# runs tests/interop/run.sh against it (which installs the pinned npm
# packages itself), and stops it: the server must still be running after
# the run, shut down on SIGTERM within 20 s with status 0, and have logged
# no panic. Then starts tests/interop/ws-echo-server.js on a free port and
# runs the ignored tests of tests/tests/ws_client_interop.rs against it
# (WS_ECHO_URL), checking that as many ran as the file declares. Bounded by
# `timeout` throughout; the servers are stopped on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(tokio async-std smol axum hyper)
heartbeat_ms=500
# shellcheck source=scripts/test-profile.sh
. "$root/scripts/test-profile.sh"
timeout 20m cargo build --profile "$test_profile" -q -p sockway-cli

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

# Stops the server of the run just made, checking that it lived through
# the run, shuts down gracefully on SIGTERM (within 20 s, status 0: `timeout`
# passes the signal on and returns the server's status) and never panicked.
check_and_stop_server() {
  local what="$1" status=0
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid" || status=$?
    server_pid=""
    cat "$log" >&2
    echo "interop.sh: $what exited during the run (status $status)" >&2
    return 1
  fi
  kill -TERM "$server_pid"
  for _ in $(seq 1 200); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    stop_server
    cat "$log" >&2
    echo "interop.sh: $what still ran 20 s after SIGTERM" >&2
    return 1
  fi
  wait "$server_pid" || status=$?
  server_pid=""
  if [ "$status" -ne 0 ] || grep -q "panicked" "$log"; then
    cat "$log" >&2
    echo "interop.sh: $what exited with status $status after SIGTERM (or panicked)" >&2
    return 1
  fi
  echo "interop.sh: $what shut down on SIGTERM with status 0" >&2
}

log="$(mktemp)"
for runtime in "${runtimes[@]}"; do
  case "$runtime" in
    axum | hyper) mode=(--runtime tokio --stack "$runtime") ;;
    *) mode=(--runtime "$runtime") ;;
  esac
  echo "interop.sh: sockjs-client and ws against sockway serve ${mode[*]}" >&2
  # --foreground: without it, `timeout` sends a signal it gets both to the
  # server and to the process group it made for it, so the server would get
  # SIGTERM twice, and a second signal ends the server at once (status 1).
  SOCKWAY_LOG=warn timeout --foreground 10m "$test_bin_dir/sockway" serve \
    --listen 127.0.0.1:0 --heartbeat-time "${heartbeat_ms}ms" "${mode[@]}" >"$log" 2>&1 &
  server_pid=$!
  base="$(wait_listening "$log" "$server_pid" http)"
  status=0
  HEARTBEAT_MS="$heartbeat_ms" timeout 5m bash tests/interop/run.sh "$base" || status=$?
  check_and_stop_server "sockway serve ${mode[*]}" || status=1
  [ "$status" -eq 0 ] || exit "$status"
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
# `--ignored` selects the tests: as many must run as the file declares, on
# each of the two adapters (for_each_adapter!).
declared="$(grep -c '#\[ignore = "needs Node' tests/tests/ws_client_interop.rs || true)"
expect=$((declared * 2))
report="$(mktemp)"
status=0
WS_ECHO_URL="$echo_url" timeout 10m cargo test -q -p sockway-tests \
  --test ws_client_interop -- --ignored 2>&1 | tee "$report" || status=$?
ran="$(sed -n 's/^test result: ok\. \([0-9][0-9]*\) passed; 0 failed.*/\1/p' "$report")"
rm -f "$report"
if [ "$status" -eq 0 ] && { [ "$expect" -eq 0 ] || [ "$ran" != "$expect" ]; }; then
  echo "interop.sh: ${ran:-no} ws_client_interop tests passed, expected $expect" >&2
  status=1
fi
if ! kill -0 "$echo_pid" 2>/dev/null; then
  echo "interop.sh: ws-echo-server.js died during the run" >&2
  cat "$echo_log" >&2
  status=1
fi
exit "$status"
