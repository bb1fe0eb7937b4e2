#!/usr/bin/env bash
# Test sockway's WebSocket server with Autobahn's fuzzingclient.
#
#   run-server.sh          the adapter-tokio `autobahn-echo` example (a bare
#                          WebSocketStream echo) on 127.0.0.1:9001
#   run-server.sh serve [RUNTIME]
#                          the ready server's /ws endpoint (`sockway serve
#                          --runtime RUNTIME`: tokio, async-std or smol;
#                          sessions, inbox and outbox) on 127.0.0.1:9003;
#                          RUNTIME axum or hyper: the same endpoint mounted
#                          in an axum Router (`--stack axum`) or served by
#                          plain hyper (`--stack hyper`), on tokio
#
# Builds and starts the server, runs `wstest -m fuzzingclient` against it,
# stops it, and checks the report with check.py. Exit 0 only if every case
# passed. Every step is bounded by `timeout` so CI can never hang.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"   # the spec's outdir is relative to the repo root

# shellcheck source=scripts/test-profile.sh
. "$root/scripts/test-profile.sh"
addr=127.0.0.1
target="${1:-stream}"
case "$target" in
  stream)
    port=9001
    report=.autobahn/reports/server
    spec="$here/fuzzingclient.json"
    label=autobahn-server
    build=(cargo build --profile "$test_profile" -p adapter-tokio --example autobahn-echo)
    run=(cargo run --profile "$test_profile" -q -p adapter-tokio --example autobahn-echo -- "$addr:$port")
    ;;
  serve)
    runtime="${2:-tokio}"
    port=9003
    report=.autobahn/reports/serve
    spec="$here/fuzzingclient-serve.json"
    label="autobahn-serve-$runtime"
    build=(cargo build --profile "$test_profile" -p sockway-cli)
    case "$runtime" in
      axum | hyper) mode=(--runtime tokio --stack "$runtime") ;;
      *) mode=(--runtime "$runtime") ;;
    esac
    run=(cargo run --profile "$test_profile" -q -p sockway-cli -- serve --listen "$addr:$port" "${mode[@]}")
    ;;
  *) echo "run-server.sh: unknown target $target (stream or serve)" >&2; exit 2 ;;
esac

port_open() { (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; }

wstest="$(bash "$here/install.sh")"

if port_open; then
  echo "run-server.sh: $addr:$port is already in use; refusing to test whatever listens there" >&2
  exit 1
fi

# Build first, so the readiness wait below does not have to cover compile time.
timeout 20m "${build[@]}"

# Start the server (cargo execs the example, so $server_pid ends up as `timeout`
# whose child is the server itself; killing it stops both).
SOCKWAY_LOG=warn timeout 30m "${run[@]}" >/dev/null &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT

# Wait (at most ~120 s) until the server accepts connections.
for ((i = 0; i < 240; i++)); do
  port_open && break
  kill -0 "$server_pid" 2>/dev/null || { echo "run-server.sh: server exited early" >&2; exit 1; }
  sleep 0.5
done
port_open || { echo "run-server.sh: server not listening on $addr:$port after 120 s" >&2; exit 1; }

rm -rf "$report"
timeout 15m "$wstest" -m fuzzingclient -s "$spec"

cleanup
python3 "$here/check.py" "$report/index.json" --label "$label" --expect 517
