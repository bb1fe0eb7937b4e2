#!/usr/bin/env bash
# Node.js interop tests for sockway: sockjs-client 1.6.1 over every transport
# it has in Node, and the `ws` library against the raw WebSocket echo.
#
#   run.sh <base-http-url>    test a running server, e.g. http://127.0.0.1:8081
#                             (its raw WebSocket echo is taken to be ws://HOST:PORT/ws)
#   run.sh --reference        start reference-server.js (sockjs-node) on a free
#                             port with HEARTBEAT_MS=500, test it, stop it
#
# Env:
#   HEARTBEAT_MS     the server's heartbeat interval in ms (default 500 with
#                    --reference; required to match the server otherwise,
#                    default 25000 as in SockJS)
#   SOCKWAY_WS_URL   override the raw WebSocket echo URL
#   TEST_PATTERN     only run tests whose name matches (node --test-name-pattern)
#   EXPECT_TESTS     with TEST_PATTERN (and required with it): how many tests
#                    the pattern selects; the run fails unless exactly that
#                    many ran and passed
#
# The run fails unless node's summary shows no failed, cancelled or todo
# test, and every test ran (none skipped) or, with TEST_PATTERN, exactly
# EXPECT_TESTS passed: a pattern that matches nothing (a renamed test) or a
# suite that defines no test must not pass with 0 tests.
#
# Installs the pinned packages with `npm ci` when node_modules is missing or
# older than package-lock.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

usage() {
  sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

[ $# -eq 1 ] || usage

# Dependencies: reinstall when node_modules is missing or stale.
stamp=node_modules/.package-lock.json
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] ||
  [ package.json -nt "$stamp" ]; then
  echo "run.sh: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi

if [ -n "${TEST_PATTERN:-}" ] && ! [[ "${EXPECT_TESTS:-}" =~ ^[1-9][0-9]*$ ]]; then
  echo "run.sh: TEST_PATTERN needs EXPECT_TESTS, the number of tests it selects" >&2
  exit 2
fi

server_pid=""
server_log=""
report="$(mktemp)"
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$server_log" ]; then
    rm -f "$server_log"
  fi
  rm -f "$report"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$1" in
  --reference)
    export HEARTBEAT_MS="${HEARTBEAT_MS:-500}" SOCKJS_REFERENCE=1
    server_log="$(mktemp)"
    node reference-server.js --listen 127.0.0.1:0 >"$server_log" 2>&1 &
    server_pid=$!
    base=""
    for _ in $(seq 1 100); do
      line="$(head -n 1 "$server_log" 2>/dev/null || true)"
      case "$line" in
        "listening on "*)
          base="${line#listening on }"
          break
          ;;
      esac
      if ! kill -0 "$server_pid" 2>/dev/null; then
        break
      fi
      sleep 0.1
    done
    if [ -z "$base" ]; then
      echo "run.sh: reference server did not start:" >&2
      cat "$server_log" >&2
      exit 1
    fi
    echo "run.sh: reference server (sockjs-node) at $base, HEARTBEAT_MS=$HEARTBEAT_MS" >&2
    ;;
  -h | --help)
    usage
    ;;
  http://* | https://*)
    base="${1%/}"
    ;;
  *)
    usage
    ;;
esac

export SOCKWAY_URL="$base"
if [ -z "${SOCKWAY_WS_URL:-}" ]; then
  hostport="${base#*://}"
  hostport="${hostport%%/*}"
  case "$base" in
    https://*) SOCKWAY_WS_URL="wss://$hostport/ws" ;;
    *) SOCKWAY_WS_URL="ws://$hostport/ws" ;;
  esac
fi
export SOCKWAY_WS_URL
export HEARTBEAT_MS="${HEARTBEAT_MS:-25000}"

echo "run.sh: SOCKWAY_URL=$SOCKWAY_URL SOCKWAY_WS_URL=$SOCKWAY_WS_URL HEARTBEAT_MS=$HEARTBEAT_MS" >&2

args=(--test --test-concurrency=1 --test-timeout=60000 --test-reporter=tap)
if [ -n "${TEST_PATTERN:-}" ]; then
  args+=("--test-name-pattern=$TEST_PATTERN")
fi

status=0
node "${args[@]}" sockjs-client.test.js ws.test.js | tee "$report" || status=$?

# The counts of node's closing summary (`# pass 51`).
summary() { sed -n "s/^# $1 \([0-9][0-9]*\)\$/\1/p" "$report" | tail -n 1; }
tests="$(summary tests)"
pass="$(summary pass)"
if [ -z "$tests" ] || [ -z "$pass" ]; then
  echo "run.sh: no test summary from node --test" >&2
  status=1
else
  for count in fail cancelled todo; do
    if [ "$(summary "$count")" != 0 ]; then
      echo "run.sh: $(summary "$count") tests $count" >&2
      status=1
    fi
  done
  if [ -n "${TEST_PATTERN:-}" ]; then
    # Node counts the tests that the pattern leaves out as skipped.
    if [ "$pass" -ne "$EXPECT_TESTS" ]; then
      echo "run.sh: $pass tests passed, expected exactly $EXPECT_TESTS to match TEST_PATTERN and pass" >&2
      status=1
    fi
  elif [ "$pass" -eq 0 ] || [ "$pass" -ne "$tests" ]; then
    echo "run.sh: $pass of $tests tests passed; every test must run and pass" >&2
    status=1
  fi
fi

if [ -n "$server_pid" ]; then
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the reference server died during the run; its output:" >&2
    cat "$server_log" >&2
    status=1
  elif [ "$status" -ne 0 ] && [ "$(wc -l <"$server_log")" -gt 1 ]; then
    echo "run.sh: reference server output:" >&2
    tail -n 50 "$server_log" >&2
  fi
fi
exit "$status"
