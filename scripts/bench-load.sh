#!/usr/bin/env bash
# `sockway load` against `sockway serve` and against sockjs-node 0.3.24
# (tests/interop/reference-server.js), side by side: many SockJS users on
# each transport, every echo checked. The server is pinned to CPU 0 and
# the load generator to CPU 1 (taskset), rounds are interleaved, each run
# gets a fresh server. Prints, per run, the generator's report with the
# server's CPU time (and its kernel part: the system time) and resident
# memory at the end of the window, then one table of medians with
# sockway's ratio to sockjs-node.
#
#   scripts/bench-load.sh                          1000 users, every transport, both servers, 2 rounds
#   scripts/bench-load.sh -u 10000 -t websocket -s sockway -d 20s --ramp-up 20s
#
# Options (each also as an environment variable):
#   -u, --users N          (USERS)      concurrent users (default 1000)
#   -t, --transports LIST  (TRANSPORTS) websocket,xhr-streaming,xhr-polling (default all three)
#   -s, --servers LIST     (SERVERS)    sockway,sockjs-node (default both)
#   -r, --rounds N         (ROUNDS)     interleaved rounds (default 2)
#   -d, --duration D       (DURATION)   measured window (default 10s)
#   --ramp-up D            (RAMP_UP)    users start evenly over D (default 5s)
#   --rate R               (RATE)       messages per second per user (default:
#                                       one in flight per user, as fast as it goes)
#   --size N               (SIZE)       message size (default 32)
#   -o, --out FILE         (OUT)        the JSON lines (default target/bench-load/<time>.jsonl)
#
# The file-descriptor limit bounds the sessions: websocket needs one socket
# per user on each side, the xhr transports two. Every process it starts is
# stopped by its PID, on exit too; every address is on 127.0.0.1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

users="${USERS:-1000}"
transports="${TRANSPORTS:-websocket,xhr-streaming,xhr-polling}"
servers="${SERVERS:-sockway,sockjs-node}"
rounds="${ROUNDS:-2}"
duration="${DURATION:-10s}"
ramp_up="${RAMP_UP:-5s}"
rate="${RATE:-}"
size="${SIZE:-32}"
out="${OUT:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    -u | --users) users="$2"; shift 2 ;;
    -t | --transports) transports="$2"; shift 2 ;;
    -s | --servers) servers="$2"; shift 2 ;;
    -r | --rounds) rounds="$2"; shift 2 ;;
    -d | --duration) duration="$2"; shift 2 ;;
    --ramp-up) ramp_up="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    -o | --out) out="$2"; shift 2 ;;
    -h | --help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-load.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out="target/bench-load/$(date +%Y%m%d-%H%M%S).jsonl"
mkdir -p "$(dirname "$out")"
: >"$out"

timeout 20m cargo build --release -q -p sockway-cli
sockway="$root/target/release/sockway"
if [[ ",$servers," == *",sockjs-node,"* ]]; then
  stamp=tests/interop/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/interop/package-lock.json -nt "$stamp" ]; then
    (cd tests/interop && timeout 10m npm ci --no-audit --no-fund >&2)
  fi
fi

server_pid=""
server_log=""
base=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  [ -z "$server_log" ] || rm -f "$server_log"
}
trap cleanup EXIT

# Starts $1 pinned to CPU 0; sets server_pid and base (its URL).
start_server() {
  server_log="$(mktemp)"
  case "$1" in
    sockway)
      SOCKWAY_LOG=warn taskset -c 0 "$sockway" serve --listen 127.0.0.1:0 >"$server_log" 2>&1 &
      ;;
    sockjs-node)
      (cd tests/interop && exec taskset -c 0 node reference-server.js --listen 127.0.0.1:0) >"$server_log" 2>&1 &
      ;;
    *) echo "bench-load.sh: unknown server $1" >&2; exit 2 ;;
  esac
  server_pid=$!
  for _ in $(seq 200); do
    if grep -q "^listening on " "$server_log"; then
      base="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$server_log" | head -1)"
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench-load.sh: $1 did not start" >&2
  cat "$server_log" >&2
  exit 1
}

# utime and stime of $1, in clock ticks: "USER,SYSTEM".
cpu_ticks() { awk '{print $14 "," $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hz="$(getconf CLK_TCK)"
# The window starts once the ramp-up and the sessions' opening are over.
seconds() {
  awk -v d="$1" 'BEGIN {
    if (d ~ /ms$/) print substr(d, 1, length(d) - 2) / 1000
    else if (d ~ /s$/) print substr(d, 1, length(d) - 1)
    else if (d ~ /m$/) print substr(d, 1, length(d) - 1) * 60
    else print d }'
}

for round in $(seq "$rounds"); do
  for transport in ${transports//,/ }; do
    for server in ${servers//,/ }; do
      start_server "$server"
      args=(load "$base/echo" --users "$users" --transport "$transport" --size "$size"
        --ramp-up "$ramp_up" --duration "$duration" --connect-timeout 60s --json)
      [ -z "$rate" ] || args+=(--rate "$rate")
      report="$(mktemp)"
      taskset -c 1 timeout 30m "$sockway" "${args[@]}" >"$report" &
      load_pid=$!
      # The server's CPU over the measured window: sampled when the window
      # starts (the ramp-up plus a second for the last sessions to open,
      # at the latest) and when it ends.
      sleep "$(awk -v r="$(seconds "$ramp_up")" 'BEGIN { print r + 1 }')"
      cpu0="$(cpu_ticks "$server_pid")"
      sleep "$(seconds "$duration")"
      cpu1="$(cpu_ticks "$server_pid")"
      rss="$(rss_kib "$server_pid")"
      status=0
      wait "$load_pid" || status=$?
      stop_server
      python3 - "$report" "$server" "$transport" "$round" "$status" "$cpu0" "$cpu1" "$hz" "$rss" "$(seconds "$duration")" >>"$out" <<'PY'
import json, sys
path, server, transport, rnd, status, cpu0, cpu1, hz, rss, window = sys.argv[1:]
with open(path) as f:
    text = f.read().strip()
report = json.loads(text) if text else {}
(user0, sys0), (user1, sys1) = ([int(v) for v in c.split(",")] for c in (cpu0, cpu1))
cpu_s = (user1 + sys1 - user0 - sys0) / int(hz)
sys_s = (sys1 - sys0) / int(hz)
messages = report.get("messages", 0)
report.update({
    "server": server, "transport": transport, "round": int(rnd), "exit": int(status),
    "server_cpu_s": cpu_s,
    "server_cpu_percent": round(cpu_s * 100 / float(window)),
    "server_cpu_us_per_msg": round(cpu_s * 1e6 / messages, 2) if messages else None,
    "server_sys_us_per_msg": round(sys_s * 1e6 / messages, 2) if messages else None,
    "server_rss_kib": int(rss),
})
print(json.dumps(report))
PY
      rm -f "$report"
      tail -1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
lat = r.get("latency_us", {})
print("round %(round)s %(transport)-13s %(server)-11s" % r,
      "msgs/s %8.0f  p50 %6s p99 %7s µs  errors %s  opened %s/%s  server CPU %s%% (%s µs/msg, kernel %s) RSS %s KiB  generator CPU %s%%" % (
      r.get("msgs_per_s", 0), lat.get("p50"), lat.get("p99"), r.get("errors"), r.get("opened"),
      r.get("users"), r.get("server_cpu_percent"), r.get("server_cpu_us_per_msg"), r.get("server_sys_us_per_msg"),
      r.get("server_rss_kib"), r.get("cpu_percent")),
      "generator RSS %s KiB" % r.get("rss_kib"), file=sys.stderr)'
    done
  done
done

python3 - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(rows, key, sub=None):
    vals = [(r.get(key) or {}).get(sub) if sub else r.get(key) for r in rows]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None
print("\n| transport | server | users | msgs/s | p50 µs | p99 µs | errors | server CPU µs/msg | of which kernel | server RSS MiB | generator CPU % |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
table = {}
for t in dict.fromkeys(r["transport"] for r in runs):
    for s in dict.fromkeys(r["server"] for r in runs):
        rows = [r for r in runs if r["transport"] == t and r["server"] == s]
        if not rows:
            continue
        row = dict(msgs=med(rows, "msgs_per_s"), p50=med(rows, "latency_us", "p50"),
                   p99=med(rows, "latency_us", "p99"), errors=sum(r.get("errors", 0) for r in rows),
                   cpu=med(rows, "server_cpu_us_per_msg"), sys=med(rows, "server_sys_us_per_msg"),
                   rss=med(rows, "server_rss_kib"),
                   gen=med(rows, "cpu_percent"), users=rows[0].get("users"))
        table[(t, s)] = row
        fmt = lambda v, f: "-" if v is None else f % v
        print(f"| {t} | {s} | {row['users']} | {fmt(row['msgs'], '%.0f')} | {fmt(row['p50'], '%.0f')} | "
              f"{fmt(row['p99'], '%.0f')} | {row['errors']} | {fmt(row['cpu'], '%.1f')} | {fmt(row['sys'], '%.1f')} | "
              f"{fmt(row['rss'] and row['rss'] / 1024, '%.1f')} | {fmt(row['gen'], '%.0f')} |")
print()
for t in dict.fromkeys(r["transport"] for r in runs):
    a, b = table.get((t, "sockway")), table.get((t, "sockjs-node"))
    if a and b and a["msgs"] and b["msgs"]:
        cpu = "%.2fx" % (a["cpu"] / b["cpu"]) if a["cpu"] and b["cpu"] else "-"
        # The kernel's part of sockway's CPU alone, over sockjs-node's
        # whole: what the ratio would be with no user-space work at all.
        floor = "%.2fx" % (a["sys"] / b["cpu"]) if a["sys"] is not None and b["cpu"] else "-"
        print(f"{t}: sockway / sockjs-node = {a['msgs'] / b['msgs']:.2f}x msgs/s, server CPU per message {cpu}"
              f" (sockway's kernel time alone: {floor})")
print(f"(runs: {sys.argv[1]})")
PY
