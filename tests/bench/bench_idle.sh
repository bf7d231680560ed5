#!/usr/bin/env bash
# Idle TLS connections held by oagd while a keep-alive client asks for vectors (issue 17): the
# client's latency with and without IDLE connections held (alternating, two rounds, in one run),
# and oagd's memory per idle connection (RSS with them held minus RSS just before, ÷ IDLE).
# Each idle connection is a mutual-TLS 1.3 connection that sent one request and waits in
# keep-alive, as an endpoint between calls does. oagd on CPU 0, oag-bench on CPU 1.
#   tests/bench/bench_idle.sh [IDLE, default 5000] [SECONDS per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
IDLE=${1:-5000}
SECONDS_PER_RUN=${2:-10}
BUILD=${OAG_BUILD_DIR:-build}

work=$(mktemp -d /tmp/oag-bench-idle-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

ctl="$BUILD/tools/oagctl/oagctl"
$ctl init --realm op-a.example --dir "$work/op" >/dev/null
printf '465b5ce8b199b49faa5f0a2ee238a6bc\n' > "$work/k"
printf 'cdc202d5123e20f62b6d676ac72cb318\n' > "$work/op.hex"
$ctl --config "$work/op/oagd.json" subscriber add --nai alice@op-a.example --imsi 001010000000001 \
  --k-file "$work/k" --op-file "$work/op.hex" >/dev/null
$ctl --config "$work/op/oagd.json" endpoint issue-cert --nai alice@op-a.example --out-dir "$work/op" >/dev/null
# Only the endpoint and ops listeners, so that IDLE + 64 connections fit the descriptor limit
# (max_connections on each enabled listener, see limits.max_connections).
python3 - "$work/op/oagd.json" "$work/oagd.json" "$IDLE" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"enabled": False}, "visitor": {"enabled": False}}
c["limits"] = {"max_connections": int(sys.argv[3]) + 64}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[2], "w"))
PY

taskset -c 0 "$BUILD/gateway/oagd" --config "$work/oagd.json" > "$work/oagd.out" 2> "$work/oagd.err" &
OAGD_PID=$!
pids+=($OAGD_PID)
for _ in $(seq 100); do grep -q "listening ops" "$work/oagd.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(awk '/listening endpoint/ {print $4}' "$work/oagd.out")
OPS=$(awk '/listening ops/ {print $4}' "$work/oagd.out")
[ -n "$PORT" ] || { cat "$work/oagd.err" >&2; exit 1; }

rss_kib() { awk '/VmRSS/ {print $2}' /proc/$OAGD_PID/status; }
open_conns() { curl -s "http://127.0.0.1:$OPS/metrics" | awk -F'} ' '/^oag_open_connections\{listener="endpoint"\}/ {print $2}'; }
bench() {
  taskset -c 1 "$BUILD/tools/oag-bench/oag-bench" --json --port "$PORT" --ca "$work/op/endpoint-ca.pem" \
    --cert "$work/op/alice@op-a.example.pem" --key "$work/op/alice@op-a.example.key" \
    --connections 4 --seconds "$SECONDS_PER_RUN" --kind aka --count 1 "$@"
}

declare -A result rss_before rss_held
for round in 1 2; do
  result[plain$round]=$(bench)
  rss_before[$round]=$(rss_kib)
  bench --idle "$IDLE" > "$work/idle$round.json" &
  bench_pid=$!
  # RSS once every idle connection is open (the load runs by then, as in the figures).
  for _ in $(seq 1200); do
    n=$(open_conns); [ "${n:-0}" -ge "$IDLE" ] && break; sleep 0.05
  done
  rss_held[$round]=$(rss_kib)
  wait "$bench_pid" || { cat "$work/idle$round.json" "$work/oagd.err" >&2; exit 1; }
  result[idle$round]=$(cat "$work/idle$round.json")
done

python3 - "$IDLE" "${rss_before[1]}" "${rss_held[1]}" "${rss_before[2]}" "${rss_held[2]}" <<PY
import json, sys
idle = int(sys.argv[1])
rb1, rh1, rb2, rh2 = (int(x) for x in sys.argv[2:6])
r = {k: json.loads(v) for k, v in {
  "4 clients (round 1)": '''${result[plain1]}''', f"4 clients + {idle} idle (round 1)": '''${result[idle1]}''',
  "4 clients (round 2)": '''${result[plain2]}''', f"4 clients + {idle} idle (round 2)": '''${result[idle2]}'''}.items()}
print(f"{'run':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'idle held':>9} {'errors':>7}")
for k, v in r.items():
    print(f"{k:32} {v['requests_per_s']:8.0f} {v['p50_ms']:8.3f} {v['p99_ms']:8.3f} {v['max_ms']:8.3f} "
          f"{v['idle_held']:9d} {v['errors'] + v['non_200']:7d}")
plain = [v for k, v in r.items() if "idle" not in k]
held = [v for k, v in r.items() if "idle" in k]
p99_plain = max(v["p99_ms"] for v in plain)
print(f"p99 with {idle} idle held: {max(v['p99_ms'] for v in held):.3f} ms, without: {p99_plain:.3f} ms")
print(f"oagd RSS: round 1 {rb1 / 1024:.1f} MiB -> {rh1 / 1024:.1f} MiB held, round 2 {rb2 / 1024:.1f} -> {rh2 / 1024:.1f} MiB")
print(f"memory per idle TLS connection: {(rh1 - rb1) / idle:.1f} KiB (round 1), {(rh2 - rb2) / idle:.1f} KiB (round 2)")
bad = [k for k, v in r.items() if v["errors"] + v["non_200"]]
bad += [k for k in r if "idle" in k and (r[k]["idle_held"] != idle or r[k]["idle_dropped"])]
if bad:
    sys.exit("runs with errors, non-200 answers or idle connections lost: " + ", ".join(bad))
PY
