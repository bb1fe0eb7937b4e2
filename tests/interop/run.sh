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
#
# Installs the pinned packages with `npm ci` when node_modules is missing or
# older than package-lock.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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

server_pid=""
server_log=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$server_log" ]; then
    rm -f "$server_log"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$1" in
  --reference)
    export HEARTBEAT_MS="${HEARTBEAT_MS:-500}"
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

args=(--test --test-concurrency=1 --test-timeout=60000)
if [ -n "${TEST_PATTERN:-}" ]; then
  args+=("--test-name-pattern=$TEST_PATTERN")
fi

status=0
node "${args[@]}" sockjs-client.test.js ws.test.js || status=$?

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
