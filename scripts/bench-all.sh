#!/usr/bin/env bash
# Every comparison the README's performance table comes from, in one run:
# each a script of its own (see bench/README.md), with the server pinned
# to CPU 0 and the load generator to CPU 1, rounds interleaved, every
# echo and copy checked.
#
#   1. WebSocket echoes (bench-ws.sh's default set: pingpong, conc100,
#      pipe64, bin1m, rate20k) against tokio-websockets, fastwebsockets,
#      tokio-tungstenite and sockudo-ws;
#   2. an idle WebSocket's memory (idle10k), the same servers;
#   3. the SockJS echoes over xhr-polling and xhr-streaming against
#      sockjs-node 0.3.24;
#   4. broadcasts to 10,000 subscribers: plain WebSocket against a
#      tokio-tungstenite broadcast server, SockJS's websocket transport
#      against sockjs-node;
#   5. `sockway load` (1,000 SockJS users on the websocket transport)
#      against sockway serve and sockjs-node (bench-load.sh).
#
#   scripts/bench-all.sh            2 rounds of each (about 15 minutes)
#   ROUNDS=1 scripts/bench-all.sh   1 round
#
# Everything goes to bench/target/results/all-<time>/: the JSON lines and
# the printed tables of each part (<part>.jsonl, <part>.txt). Needs node
# and npm for sockjs-node (tests/interop, `npm ci` run here when needed),
# taskset, and a file-descriptor hard limit of at least 10,100 for the
# 10,000-connection parts (the scripts raise the soft limit to it). Keep the machine otherwise idle: each report
# says when a process waited for its CPU.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-2}"
dir="bench/target/results/all-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$dir"

stamp=tests/interop/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ tests/interop/package-lock.json -nt "$stamp" ]; then
  (cd tests/interop && timeout 10m npm ci --no-audit --no-fund >&2)
fi

# One part: its name, then the command; its tables (stdout and stderr)
# shown and kept.
part() {
  local name="$1"
  shift
  echo "=== $name: $*" | tee "$dir/$name.txt"
  "$@" 2>&1 | tee -a "$dir/$name.txt"
}

# The first part builds everything (bench/ and sockway, fat LTO).
part echo scripts/bench-ws.sh -r "$rounds" -o "$dir/echo.jsonl"
part idle scripts/bench-ws.sh --no-build -w idle10k -r 1 -o "$dir/idle.jsonl"
part sockjs scripts/bench-ws.sh --no-build -w xhr-polling,xhr-streaming \
  -s sockway,sockjs-node -r "$rounds" -o "$dir/sockjs.jsonl"
part broadcast scripts/bench-ws.sh --no-build -w bcast10k-ws,bcast10k-sockjs \
  -r "$rounds" -o "$dir/broadcast.jsonl"
part load scripts/bench-load.sh -t websocket -r "$rounds" -o "$dir/load.jsonl"
echo "=== the results are in $dir"
