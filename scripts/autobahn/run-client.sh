#!/usr/bin/env bash
# Test sockway's WebSocket client with Autobahn's fuzzingserver.
#
# Starts `wstest -m fuzzingserver` on 127.0.0.1:9002, runs the adapter-tokio
# `autobahn-client` example against it (it runs every case, then asks the
# server to write its reports), stops wstest, and checks the report
# (.autobahn/reports/client/index.json) with check.py. Exit 0 only if every
# case passed. Every step is bounded by `timeout` so CI can never hang.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"   # the spec's outdir is relative to the repo root

# shellcheck source=scripts/test-profile.sh
. "$root/scripts/test-profile.sh"
addr=127.0.0.1
port=9002
report=.autobahn/reports/client
log=.autobahn/fuzzingserver.log

port_open() { (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; }

wstest="$(bash "$here/install.sh")"

if port_open; then
  echo "run-client.sh: $addr:$port is already in use" >&2
  exit 1
fi

# Build before starting wstest, so the fuzzing server is never left idle.
timeout 20m cargo build --profile "$test_profile" -p adapter-tokio --example autobahn-client

rm -rf "$report"
# -u 0: no embedded web UI (it would otherwise also listen on port 8080).
timeout 30m "$wstest" -m fuzzingserver -u 0 -s "$here/fuzzingserver.json" >"$log" 2>&1 &
wstest_pid=$!
cleanup() {
  kill "$wstest_pid" 2>/dev/null || true
  wait "$wstest_pid" 2>/dev/null || true
}
trap cleanup EXIT

# Wait (at most ~60 s) for the fuzzing server to listen.
for ((i = 0; i < 120; i++)); do
  port_open && break
  kill -0 "$wstest_pid" 2>/dev/null || { cat "$log" >&2; echo "run-client.sh: wstest exited early" >&2; exit 1; }
  sleep 0.5
done
port_open || { echo "run-client.sh: wstest not listening on $addr:$port after 60 s" >&2; exit 1; }

# Run every case; remember a failure but still check whatever report was written.
client_rc=0
timeout 15m cargo run --profile "$test_profile" -q -p adapter-tokio --example autobahn-client -- "ws://$addr:$port" \
  || client_rc=$?

cleanup
check_rc=0
python3 "$here/check.py" "$report/index.json" --label autobahn-client --expect 517 || check_rc=$?
if ((client_rc != 0)); then
  echo "run-client.sh: autobahn-client exited with status $client_rc" >&2
  exit 1
fi
exit "$check_rc"
