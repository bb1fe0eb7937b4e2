#!/usr/bin/env bash
# sockway's SockJS client against the reference server, sockjs-node 0.3.24
# (tests/interop/reference-server.js), which the tests start and stop
# themselves:
#
# - tests/tests/sockjs_client_reference.rs: the client of every runtime
#   (tokio, async-std, smol) over every transport;
# - cli/tests/load.rs: `sockway load` over every transport.
#
#   scripts/interop-client.sh
#
# Installs the pinned npm packages of tests/interop when missing or stale,
# runs the ignored tests of those files (they need node), and fails unless
# exactly as many passed as the files declare. Bounded by `timeout`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

interop=tests/interop
stamp="$interop/node_modules/.package-lock.json"
if [ ! -d "$interop/node_modules" ] || [ ! -f "$stamp" ] ||
  [ "$interop/package-lock.json" -nt "$stamp" ] || [ "$interop/package.json" -nt "$stamp" ]; then
  echo "interop-client.sh: npm ci" >&2
  (cd "$interop" && timeout 10m npm ci --no-audit --no-fund >&2)
fi

marker='#\[ignore = "needs sockjs-node'
status=0
run() {
  local package="$1" test="$2" per_declared="$3"
  local declared expect report ran
  declared="$(grep -c "$marker" "$(find . -path ./target -prune -o -name "$test.rs" -print | head -1)" || true)"
  expect=$((declared * per_declared))
  report="$(mktemp)"
  timeout 20m cargo test -q -p "$package" --test "$test" -- --ignored 2>&1 | tee "$report" || status=$?
  ran="$(sed -n 's/^test result: ok\. \([0-9][0-9]*\) passed; 0 failed.*/\1/p' "$report")"
  rm -f "$report"
  if [ "$expect" -eq 0 ] || [ "${ran:-0}" != "$expect" ]; then
    echo "interop-client.sh: ${ran:-no} $test tests passed, expected $expect" >&2
    status=1
  fi
}
# for_each_runtime! runs each declared test on three runtimes.
run sockway-tests sockjs_client_reference 3
run sockway-cli load 1
exit "$status"
