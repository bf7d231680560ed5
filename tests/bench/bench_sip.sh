#!/usr/bin/env bash
# What the oag1 mutual authentication adds to SIP call set-up: the same oag-phone pair through
# the same Kamailio, with authentication (sim and aka: vectors brokered between two oagd) and
# without (plain SIP), calls one after another. Set-up time = from the caller's start (fetching
# the callee's vector included) to its ACK sent.
#   tests/bench/bench_sip.sh [CALLS per run, default 300] [udp|tcp, default udp]
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${1:-300}
TRANSPORT=${2:-udp}
BUILD=${OAG_BUILD_DIR:-build}
phone="$BUILD/tools/oag-phone/oag-phone"
work=$(mktemp -d /tmp/oag-bench-sip-XXXXXX)
# shellcheck source=deploy/lib.sh
. deploy/lib.sh
trap 'stop_all; rm -rf "$work"' EXIT

start_pair --rate 1000000 --burst 1000000
start_kamailio

run() {  # name "answer options" "call options"
  local name=$1 out="$work/bob-$1.out"
  # shellcheck disable=SC2046,SC2086
  "$phone" answer $(phone_args op-b.example bob bob.sim.json) --transport "$TRANSPORT" $2 > "$out" 2>&1 &
  local bob=$!
  wait_for "$out" "^registered"
  # shellcheck disable=SC2046,SC2086
  "$phone" call bob@op-b.example $(phone_args op-a.example alice alice.sim.json) --transport "$TRANSPORT" \
    --count "$CALLS" --hold-ms 0 --quiet --json $3 | tail -1 > "$work/$name.json"
  kill "$bob"
  wait "$bob" || true
}
for round in 1 2; do
  run "plain-$round" --no-auth --no-auth
  run "sim-$round" "" "--kind sim"
  run "aka-$round" "" "--kind aka"
done
python3 - "$work" "$CALLS" "$TRANSPORT" <<'PY'
import json, sys, pathlib
work, calls, transport = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
runs = {p.stem: json.loads(p.read_text()) for p in sorted(work.glob("*.json"))}
print(f"oag-phone pair through Kamailio over {transport}, {calls} calls a run, one at a time; "
      "two oagd, Kamailio and both phones on this machine's 2 cores")
print(f"{'run':10} {'ok':>5} {'p50 ms':>8} {'p99 ms':>8} {'calls/s':>8}")
for k, v in runs.items():
    print(f"{k:10} {v['ok']:5d} {v['p50_ms']:8.3f} {v['p99_ms']:8.3f} {v['calls_per_s']:8.1f}")
best = lambda kind, q: min(runs[f"{kind}-{r}"][q] for r in (1, 2))
for kind in ("sim", "aka"):
    print(f"{kind} authentication adds: p50 {best(kind, 'p50_ms') - best('plain', 'p50_ms'):.3f} ms, "
          f"p99 {best(kind, 'p99_ms') - best('plain', 'p99_ms'):.3f} ms")
import os
if os.environ.get("OAG_BENCH_SUMMARY"):  # tests/bench/summary.sh collects the figures
    with open(os.environ["OAG_BENCH_SUMMARY"], "a") as f:
        f.write(json.dumps({"bench": "sip", "transport": transport,
                            **{k + "_p50_ms": best(k, "p50_ms") for k in ("plain", "sim", "aka")}}) + "\n")
bad = [k for k, v in runs.items() if v["ok"] != v["calls"]]
if bad: sys.exit("runs with failed calls: " + ", ".join(bad))
PY
