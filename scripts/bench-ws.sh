#!/usr/bin/env bash
# WebSocket echo benchmark: `sockway serve` (/ws) side by side with peer
# echo servers (tokio-websockets, fastwebsockets, tokio-tungstenite,
# sockudo-ws), on the same build profile, with the server pinned to CPU 0
# and the load generator (bench/ ws-load) to CPU 1, rounds interleaved.
# Prints each server's figures per round and the ratios of sockway to
# tokio-websockets and to the best peer. See bench/README.md.
#
#   scripts/bench-ws.sh                                  every workload and server, 2 rounds
#   scripts/bench-ws.sh -w pipe64,bin1m -s sockway,tokio-websockets -r 3 -d 5s
#   SOCKWAY_BIN=/path/to/older/sockway scripts/bench-ws.sh     adds that build as "sockway-alt"
#   SOCKWAY_REV=main~3 scripts/bench-ws.sh               builds that commit's sockway the same way, as "sockway-<rev>"
#
# Options (each also as an environment variable):
#   -w, --workloads LIST   (WORKLOADS)  comma-separated, from: pingpong, conc100,
#                                       pipe64, text4k, bin1m, rate20k,
#                                       idle10k
#                                       (default: pingpong,conc100,pipe64,bin1m,rate20k);
#                                       the broadcasts (bench/ bcast-load; see
#                                       below): bcast10k-ws, bcast10k-sockjs;
#                                       and the SockJS echoes of /echo (bench/
#                                       sockjs-load: 16 sessions × 1 in flight ×
#                                       32 B): xhr-polling, xhr-streaming
#   -s, --servers LIST     (SERVERS)    comma-separated, from: sockway,
#                                       tokio-websockets, fastwebsockets, tungstenite,
#                                       sockudo-ws
#                                       (default: all five; sockway-alt and
#                                       sockway-<rev> are added when asked for);
#                                       also sockway-axum and sockway-hyper (the
#                                       same /ws mounted in an axum Router, or on
#                                       plain hyper: `serve --stack`), and
#                                       sockway-sockjs, sockway-axum-sockjs (the
#                                       raw websocket of the SockJS endpoint
#                                       /echo/websocket; text workloads only);
#                                       sockway-mio, sockway-uring (the same
#                                       /echo/websocket of the examples
#                                       mio_loop and uring_loop: server-proto
#                                       on one thread and one mio poll or one
#                                       io_uring; text workloads only);
#                                       sockjs-node (tests/interop/reference-
#                                       server.js: sockjs-node 0.3.24, for the
#                                       SockJS workloads)
#   -r, --rounds N         (ROUNDS)     interleaved rounds (default 2)
#   -d, --duration D       (DURATION)   measured window per run (default 5s)
#   --warmup D             (WARMUP)     warm-up per run, not measured (default 1s)
#   --peer-runtime R       (PEER_RUNTIME) the peers' tokio runtime: current
#                                       (default, as their examples) or multi
#                                       (as `sockway serve`)
#   --no-build             (NO_BUILD=1) use the binaries already built
#   -o, --out FILE         (OUT)        where the JSON lines go (default
#                                       bench/target/results/ws-<time>.jsonl)
#   --subscribers N        (SUBSCRIBERS) the broadcasts' subscribers (default 10000)
#   --bcast-rate R         (BCAST_RATE) the broadcasts' messages a second
#                                       (default 2)
#   SOCKWAY_BIN=PATH       a second sockway binary, labelled SOCKWAY_BIN_LABEL
#                          (default sockway-alt)
#   SOCKWAY_REV=REV        a commit whose sockway is built (from `git archive`,
#                          same profile, kept in bench/target/bin) and run as
#                          sockway-<short hash>; it wins over SOCKWAY_BIN
#
# The broadcasts (not in the default set): N subscribers and a publisher on a
# broadcast endpoint, 30 messages of 32 B at 2 a second, every copy checked;
# judged by the server's CPU µs per delivered copy (at 4 a second
# tokio-tungstenite and sockjs-node used all of their core on a slow day: a
# saturated server's CPU per copy is capped by the rate, and not
# comparable). Each runs on the servers that have such an endpoint:
# bcast10k-ws on sockway (/ws/broadcast; also sockway-axum, sockway-hyper
# and a second sockway build) and tungstenite (bench/ bcast-tungstenite);
# bcast10k-sockjs on the same sockway servers
# (/broadcast, over SockJS's websocket transport) and sockjs-node. Without
# -s, those of sockway and the peer; with -s, those of the list. There the
# SockJS servers' heartbeat is 10 minutes: none falls in the window.
#
# Every process it starts is stopped by its PID (SIGTERM, then SIGKILL after
# 5 s), on exit too; every address is on 127.0.0.1; each run is bounded by
# `timeout`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"

workloads="${WORKLOADS:-pingpong,conc100,pipe64,bin1m,rate20k}"
servers="${SERVERS:-sockway,tokio-websockets,fastwebsockets,tungstenite,sockudo-ws}"
rounds="${ROUNDS:-2}"
duration="${DURATION:-5s}"
warmup="${WARMUP:-1s}"
peer_runtime="${PEER_RUNTIME:-current}"
no_build="${NO_BUILD:-}"
out="${OUT:-}"
subscribers="${SUBSCRIBERS:-10000}"
bcast_rate="${BCAST_RATE:-2}"
servers_given="${SERVERS:+1}"
while [ $# -gt 0 ]; do
  case "$1" in
    -w|--workloads) workloads="$2"; shift 2 ;;
    -s|--servers) servers="$2"; servers_given=1; shift 2 ;;
    -r|--rounds) rounds="$2"; shift 2 ;;
    -d|--duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --peer-runtime) peer_runtime="$2"; shift 2 ;;
    --no-build) no_build=1; shift ;;
    -o|--out) out="$2"; shift 2 ;;
    --subscribers) subscribers="$2"; shift 2 ;;
    --bcast-rate) bcast_rate="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-ws.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "bench-ws.sh: --rounds must be a positive number" >&2; exit 2 ;; esac
case "$peer_runtime" in current|multi) ;; *) echo "bench-ws.sh: --peer-runtime is current or multi" >&2; exit 2 ;; esac
case "$subscribers" in ''|*[!0-9]*|0) echo "bench-ws.sh: --subscribers must be a positive number" >&2; exit 2 ;; esac
command -v taskset >/dev/null || { echo "bench-ws.sh: taskset (util-linux) is needed" >&2; exit 1; }
if [ "$(nproc --all)" -lt 2 ]; then
  echo "bench-ws.sh: needs 2 CPUs (server on 0, generator on 1)" >&2
  exit 1
fi

# Seconds from "5s", "500ms" or "5", rounded up (for the time limits).
seconds() {
  case "$1" in
    *ms) echo $(( (${1%ms} + 999) / 1000 )) ;;
    *s) local s="${1%s}"; echo $(( ${s%%.*} + 1 )) ;;
    *) echo $(( ${1%%.*} + 1 )) ;;
  esac
}
run_limit=$(( $(seconds "$warmup") + $(seconds "$duration") + 60 ))

# One profile for everything: the bench workspace's [profile.release]
# (fat LTO, one codegen unit, no debug info), and the same settings for
# sockway through CARGO_PROFILE_RELEASE_* (the main workspace's release
# profile keeps its own settings for everyone else).
profile_env=(
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3
  CARGO_PROFILE_RELEASE_LTO=fat
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
  CARGO_PROFILE_RELEASE_DEBUG=false
  CARGO_PROFILE_RELEASE_PANIC=unwind
  CARGO_PROFILE_RELEASE_INCREMENTAL=false
)
bins="$bench/target/bin"
sockway_target="$bench/target/sockway"
mkdir -p "$bins"

# Builds the sockway CLI from the workspace at $1 in target directory $2
# and copies it to $3. Each source tree needs a target directory of its
# own: cargo tells the workspace's own crates apart by their paths relative
# to the workspace root and by modification times, so a copy of another
# commit (whose files `git archive` dates back to that commit) built into
# the same directory could come out as the other tree's binary.
build_sockway() {
  local src="$1" target="$2" dest="$3"
  echo "== building sockway from $src" >&2
  env "${profile_env[@]}" timeout 60m nice -n 10 cargo build --release --locked -q \
    --manifest-path "$src/Cargo.toml" -p sockway-cli --target-dir "$target"
  cp "$target/release/sockway" "$dest.tmp"
  mv "$dest.tmp" "$dest"
}

# Builds the examples mio_loop and uring_loop of this workspace the same
# way (in the same target directory) and copies them to the bins.
build_loops() {
  echo "== building the mio_loop and uring_loop examples" >&2
  env "${profile_env[@]}" timeout 60m nice -n 10 cargo build --release --locked -q \
    --manifest-path "$root/Cargo.toml" -p sockway --no-default-features \
    --example mio_loop --example uring_loop --target-dir "$sockway_target"
  for b in mio_loop uring_loop; do
    cp "$sockway_target/release/examples/$b" "$bins/$b.tmp"
    mv "$bins/$b.tmp" "$bins/$b"
  done
}
# Whether the list of servers asks for the examples.
loops_asked() {
  case ",$servers," in *,sockway-mio,* | *,sockway-uring,*) return 0 ;; esac
  return 1
}

if [ -z "$no_build" ]; then
  echo "== building ws-load and the peers (bench/, release: fat LTO, 1 codegen unit)" >&2
  timeout 60m nice -n 10 cargo build --release --locked -q --manifest-path "$bench/Cargo.toml"
  build_sockway "$root" "$sockway_target" "$bins/sockway"
  if loops_asked; then build_loops; fi
fi
for b in ws-load ws-report echo-tokio-websockets echo-fastwebsockets echo-tungstenite echo-sockudo-ws; do
  [ -x "$bench/target/release/$b" ] || { echo "bench-ws.sh: $b is not built (drop --no-build)" >&2; exit 1; }
done
[ -x "$bins/sockway" ] || { echo "bench-ws.sh: sockway is not built (drop --no-build)" >&2; exit 1; }
if loops_asked; then
  for b in mio_loop uring_loop; do
    [ -x "$bins/$b" ] || { echo "bench-ws.sh: $b is not built (drop --no-build)" >&2; exit 1; }
  done
fi
for b in bcast-load bcast-tungstenite; do
  [ -x "$bench/target/release/$b" ] || { echo "bench-ws.sh: $b is not built (drop --no-build)" >&2; exit 1; }
done

# A second sockway build: a binary given, or a commit to build.
extra_label=""
extra_bin=""
if [ -n "${SOCKWAY_REV:-}" ]; then
  rev="$(git -C "$root" rev-parse --short=10 "${SOCKWAY_REV}^{commit}")"
  extra_label="sockway-$rev"
  extra_bin="$bins/sockway-$rev"
  if [ ! -x "$extra_bin" ]; then
    src="$bench/target/src-$rev"
    rm -rf "$src"
    mkdir -p "$src"
    git -C "$root" archive "$rev" | tar -x -C "$src"
    # A whole build (dependencies too) in a target directory of its own,
    # removed afterwards; the binary is kept and reused by later runs.
    build_sockway "$src" "$bench/target/sockway-$rev" "$extra_bin"
    rm -rf "$src" "$bench/target/sockway-$rev"
  fi
elif [ -n "${SOCKWAY_BIN:-}" ]; then
  [ -x "$SOCKWAY_BIN" ] || { echo "bench-ws.sh: SOCKWAY_BIN=$SOCKWAY_BIN is not executable" >&2; exit 1; }
  extra_label="${SOCKWAY_BIN_LABEL:-sockway-alt}"
  extra_bin="$SOCKWAY_BIN"
fi
IFS=, read -r -a server_list <<< "$servers"
[ -n "$extra_label" ] && server_list+=("$extra_label")
IFS=, read -r -a workload_list <<< "$workloads"

# The command line of server $1 (listening on a free loopback port).
server_cmd() {
  case "$1" in
    sockway | sockway-sockjs) echo "$bins/sockway serve --listen 127.0.0.1:0" ;;
    sockway-axum | sockway-axum-sockjs) echo "$bins/sockway serve --listen 127.0.0.1:0 --stack axum" ;;
    sockway-hyper) echo "$bins/sockway serve --listen 127.0.0.1:0 --stack hyper" ;;
    sockway-mio) echo "$bins/mio_loop 127.0.0.1:0" ;;
    sockway-uring) echo "$bins/uring_loop 127.0.0.1:0" ;;
    tokio-websockets) echo "$bench/target/release/echo-tokio-websockets --listen 127.0.0.1:0 --runtime $peer_runtime" ;;
    fastwebsockets) echo "$bench/target/release/echo-fastwebsockets --listen 127.0.0.1:0 --runtime $peer_runtime" ;;
    tungstenite) echo "$bench/target/release/echo-tungstenite --listen 127.0.0.1:0 --runtime $peer_runtime" ;;
    sockudo-ws) echo "$bench/target/release/echo-sockudo-ws --listen 127.0.0.1:0 --runtime $peer_runtime" ;;
    sockjs-node) echo "node $root/tests/interop/reference-server.js --listen 127.0.0.1:0" ;;
    "$extra_label") echo "$extra_bin serve --listen 127.0.0.1:0" ;;
    *) return 1 ;;
  esac
}
# The load generator of workload $1: the SockJS ones, the broadcasts, or
# ws-load.
generator() {
  case "$1" in
    xhr-polling | xhr-streaming) echo sockjs-load ;;
    bcast*) echo bcast-load ;;
    *) echo ws-load ;;
  esac
}
# The ws-load arguments of workload $1.
workload_args() {
  case "$1" in
    pingpong) echo "--conns 1 --inflight 1 --size 32" ;;
    conc100) echo "--conns 100 --inflight 1 --size 32" ;;
    pipe64) echo "--conns 10 --inflight 64 --size 32" ;;
    text4k) echo "--conns 10 --inflight 16 --size 4096" ;;
    bin1m) echo "--conns 1 --inflight 4 --size 1048576 --binary" ;;
    rate20k) echo "--conns 100 --inflight 1024 --size 32 --rate 20000" ;;
    idle10k) echo "--conns 10000 --inflight 1 --size 32 --idle" ;;
    xhr-polling) echo "--transport xhr-polling --sessions 16 --size 32" ;;
    xhr-streaming) echo "--transport xhr-streaming --sessions 16 --size 32" ;;
    bcast10k-ws | bcast10k-sockjs) echo "--subscribers $subscribers --messages 30 --size 32 --rate $bcast_rate" ;;
    *) return 1 ;;
  esac
}
# The servers of broadcast workload $1 when -s is not given.
bcast_servers() {
  case "$1" in
    bcast10k-ws) echo "sockway tungstenite" ;;
    bcast10k-sockjs) echo "sockway sockjs-node" ;;
  esac
}
# The URL of server $1's endpoint at address $2 for broadcast workload $3;
# fails for a server without one.
bcast_url() {
  local sockway=""
  case "$1" in
    sockway | sockway-axum | sockway-hyper) sockway=1 ;;
    *) [ -n "$extra_label" ] && [ "$1" = "$extra_label" ] && sockway=1 ;;
  esac
  case "$3:${sockway:+sockway}:$1" in
    bcast10k-ws:sockway:*) echo "ws://$2/ws/broadcast" ;;
    bcast10k-ws::tungstenite) echo "ws://$2/" ;;
    bcast10k-sockjs:sockway:* | bcast10k-sockjs::sockjs-node) echo "http://$2/broadcast" ;;
    *) return 1 ;;
  esac
}
# The command line of server $1 for broadcast workload $2: tungstenite's
# broadcast peer, and the SockJS servers' heartbeat beyond the run.
bcast_server_cmd() {
  local cmd
  case "$1" in
    tungstenite) echo "$bench/target/release/bcast-tungstenite --listen 127.0.0.1:0 --runtime $peer_runtime"; return ;;
    sockjs-node) echo "env HEARTBEAT_MS=600000 $(server_cmd "$1")"; return ;;
  esac
  cmd="$(server_cmd "$1")" || return 1
  case "$2" in
    bcast10k-sockjs) echo "$cmd --heartbeat-time 10m" ;;
    *) echo "$cmd" ;;
  esac
}
for s in "${server_list[@]}"; do
  server_cmd "$s" >/dev/null || { echo "bench-ws.sh: unknown server $s" >&2; exit 2; }
done
for w in "${workload_list[@]}"; do
  workload_args "$w" >/dev/null || { echo "bench-ws.sh: unknown workload $w" >&2; exit 2; }
done
# The servers that run workload $1, in the array run_servers.
run_servers=()
servers_of() {
  local s
  run_servers=()
  if [ "$(generator "$1")" != bcast-load ]; then
    run_servers=("${server_list[@]}")
    return
  fi
  local candidates=("${server_list[@]}")
  if [ -z "$servers_given" ]; then
    read -r -a candidates <<< "$(bcast_servers "$1")"
    [ -n "$extra_label" ] && candidates+=("$extra_label")
  fi
  for s in "${candidates[@]}"; do
    if bcast_url "$s" 127.0.0.1:0 "$1" >/dev/null; then
      run_servers+=("$s")
    else
      echo "== $1: $s has no broadcast endpoint, skipped" >&2
    fi
  done
}

mkdir -p "$bench/target/results"
[ -n "$out" ] || out="$bench/target/results/ws-$(date +%Y%m%d-%H%M%S).jsonl"
: > "$out"
log="$(mktemp)"
server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts server $1 for workload $2 on CPU 0 (its PID in server_pid) and
# sets server_url to its ws:// URL (server_addr to its address) once it
# accepts. Not in a subshell: server_pid must stay set.
server_url=""
server_addr=""
start_server() {
  local cmd addr=""
  server_url=""
  if [ "$(generator "$2")" = bcast-load ]; then
    cmd="$(bcast_server_cmd "$1" "$2")"
  else
    cmd="$(server_cmd "$1")"
  fi
  : > "$log"
  # shellcheck disable=SC2086 # the command line is split on purpose
  SOCKWAY_LOG=warn taskset -c 0 $cmd > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    addr="$(sed -n 's/^listening on http:\/\/\(127\.0\.0\.1:[0-9]*\)$/\1/p' "$log" | head -n1)"
    if [ -n "$addr" ]; then
      server_addr="$addr"
      case "$1" in
        *-sockjs | sockway-mio | sockway-uring) server_url="ws://$addr/echo/websocket" ;;
        *) server_url="ws://$addr/ws" ;;
      esac
      http_url="http://$addr/echo"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log" >&2
  echo "bench-ws.sh: $1 did not start" >&2
  return 1
}

# idle10k and the broadcasts hold 10,000 connections: a descriptor each, in
# the server and in the generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "== $(nproc --all) CPUs; server on CPU 0, ws-load on CPU 1; ${rounds} round(s); ${warmup} warm-up + ${duration} per run; peers on tokio '$peer_runtime'" >&2
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes the figures noisy)" >&2
failures=0
for round in $(seq 1 "$rounds"); do
  for w in "${workload_list[@]}"; do
    # (What is skipped is said once.)
    if [ "$round" -eq 1 ]; then servers_of "$w"; else servers_of "$w" 2>/dev/null; fi
    n=${#run_servers[@]}
    [ "$n" -gt 0 ] || echo "== $w: no server of the list runs it" >&2
    # The order of the servers rotates each round, so no server always
    # runs first (or right after the same neighbour).
    for i in $(seq 0 $((n - 1))); do
      s="${run_servers[$(( (i + round - 1) % n ))]}"
      start_server "$s" "$w"
      gen="$(generator "$w")"
      # shellcheck disable=SC2207 # the workload's arguments are split on purpose
      gen_args=($(workload_args "$w"))
      limit="$run_limit"
      case "$gen" in
        ws-load) gen_args+=(--url "$server_url" --duration "$duration" --warmup "$warmup") ;;
        sockjs-load) gen_args+=(--url "$http_url" --duration "$duration" --warmup "$warmup") ;;
        # Opening, settling, 30 messages and the drain are each bounded
        # by bcast-load.
        bcast-load) gen_args+=(--url "$(bcast_url "$s" "$server_addr" "$w")"); limit=400 ;;
      esac
      if ! timeout "$limit" taskset -c 1 "$bench/target/release/$gen" "${gen_args[@]}" \
          --server-pid "$server_pid" --label "$s" --workload "$w" --round "$round" >> "$out"; then
        failures=$((failures + 1))
        echo "bench-ws.sh: $s $w round $round failed; server log:" >&2
        tail -n 20 "$log" >&2
      fi
      if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "bench-ws.sh: $s exited during the run" >&2
        failures=$((failures + 1))
      fi
      stop_server
    done
  done
done

"$bench/target/release/ws-report" "$out"
echo
echo "JSON lines: $out"
if [ "$failures" -gt 0 ]; then
  echo "bench-ws.sh: $failures run(s) failed" >&2
  exit 1
fi
