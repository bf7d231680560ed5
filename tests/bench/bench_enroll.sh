#!/usr/bin/env bash
# SIM enrollments/s on one core: oagd on CPU 0 (one I/O thread), the enrolling clients on CPU 1.
# Prints one line per run: enrollments/s, and the time one enrollment takes (p50/p99).
#   tests/bench/bench_enroll.sh [SECONDS, default 10] [THREADS, default 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
THREADS=${2:-8}
BUILD=${OAG_BUILD_DIR:-build}
work=$(mktemp -d /tmp/oag-bench-enroll-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "${sims:-/nonexistent}"; [ "${OAG_BENCH_KEEP:-}" = 1 ] || rm -rf "$work"' EXIT
ctl="$BUILD/tools/oagctl/oagctl"
$ctl init --realm op-a.example --dir "$work/op" >/dev/null
k=465b5ce8b199b49faa5f0a2ee238a6bc op=cdc202d5123e20f62b6d676ac72cb318
$ctl --config "$work/op/oagd.json" subscriber add --nai alice@op-a.example --imsi 001010000000001 \
  --k $k --op $op >/dev/null
# The bench client's SIMs keep their state in memory (/dev/shm): the figure is the gateway's, not
# the fsyncs of eight software SIMs sharing this machine's disk with it.
sims=$(mktemp -d /dev/shm/oag-bench-sims-XXXXXX)
printf '{"imsi":"001010000000001","k":"%s","op":"%s"}\n' $k $op > "$sims/alice.sim.json"
python3 - "$work/op/oagd.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0},
                  "visitor": {"address": "127.0.0.1", "port": 0}}
c["enroll"] = {"challenges_per_minute_per_nai": 1000000, "challenges_per_minute_per_address": 10000000}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[1], "w"))
PY
taskset -c 0 "$BUILD/gateway/oagd" --config "$work/op/oagd.json" > "$work/oagd.out" 2> "$work/oagd.log" &
pid=$!
for _ in $(seq 200); do grep -q "listening ops" "$work/oagd.out" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || { cat "$work/oagd.log" >&2; exit 1; }; sleep 0.05; done
port=$(awk '/listening visitor/ {print $4}' "$work/oagd.out")
echo "bench_enroll: oagd on CPU 0, $THREADS enrolling threads on CPU 1, $SECONDS_PER_RUN s"
taskset -c 1 "$BUILD/tests/bench/bench_enroll" "$port" "$work/op/endpoint-ca.pem" \
  "$sims/alice.sim.json" alice@op-a.example "$SECONDS_PER_RUN" "$THREADS"
records=$($ctl --config "$work/op/oagd.json" --json billing verify)
echo "billing after the run: $records"
