#!/usr/bin/env bash
# What a federation hop costs: oag-bench against op-a for a local subject (alice) and, in the
# same run, for a foreign subject (bob@op-b, brokered from a second oagd over pooled mTLS).
#   tests/bench/bench_federation.sh [SECONDS per run, default 10] [CONNECTIONS, default 16]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNS=${2:-16}
BUILD=${OAG_BUILD_DIR:-build}
work=$(mktemp -d /tmp/oag-bench-fed-XXXXXX)
# shellcheck source=deploy/lib.sh
. deploy/lib.sh
trap 'stop_all; rm -rf "$work"' EXIT

start_pair --rate 1000000 --burst 1000000

bench() {
  "$BUILD/tools/oag-bench/oag-bench" --json --port "$(port_of op-a.example endpoint)" \
    --ca "$work/op-a.example/endpoint-ca.pem" --cert "$work/op-a.example/alice@op-a.example.pem" \
    --key "$work/op-a.example/alice@op-a.example.key" --connections "$CONNS" --seconds "$SECONDS_PER_RUN" "$@"
}
local1=$(bench --nai alice@op-a.example --kind aka)
foreign1=$(bench --nai bob@op-b.example --kind aka)
local2=$(bench --nai alice@op-a.example --kind aka)
foreign2=$(bench --nai bob@op-b.example --kind aka)
python3 - <<PY
import json, sys
runs = {"local (round 1)": json.loads('''$local1'''), "brokered (round 1)": json.loads('''$foreign1'''),
        "local (round 2)": json.loads('''$local2'''), "brokered (round 2)": json.loads('''$foreign2''')}
print(f"oag-bench: $CONNS connections, $SECONDS_PER_RUN s per run, both gateways and the load on this machine's 2 cores")
print(f"{'run':20} {'vectors/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for k, v in runs.items():
    print(f"{k:20} {v['vectors_per_s']:10.0f} {v['p50_ms']:8.3f} {v['p99_ms']:8.3f} {v['errors'] + v['non_200']:7d}")
lp50 = min(runs["local (round 1)"]["p50_ms"], runs["local (round 2)"]["p50_ms"])
fp50 = min(runs["brokered (round 1)"]["p50_ms"], runs["brokered (round 2)"]["p50_ms"])
lp99 = min(runs["local (round 1)"]["p99_ms"], runs["local (round 2)"]["p99_ms"])
fp99 = min(runs["brokered (round 1)"]["p99_ms"], runs["brokered (round 2)"]["p99_ms"])
print(f"federation hop adds: p50 {fp50 - lp50:.3f} ms, p99 {fp99 - lp99:.3f} ms")
import os
if os.environ.get("OAG_BENCH_SUMMARY"):  # tests/bench/summary.sh collects the figures
    mean = lambda n: (runs[n + " (round 1)"]["vectors_per_s"] + runs[n + " (round 2)"]["vectors_per_s"]) / 2
    with open(os.environ["OAG_BENCH_SUMMARY"], "a") as f:
        f.write(json.dumps({"bench": "federation", "connections": $CONNS, "local_vps": mean("local"),
                            "brokered_vps": mean("brokered"), "local_p50_ms": lp50, "brokered_p50_ms": fp50}) + "\n")
bad = [k for k, v in runs.items() if v["errors"] + v["non_200"]]
if bad: sys.exit("runs with errors or non-200 answers: " + ", ".join(bad))
PY
