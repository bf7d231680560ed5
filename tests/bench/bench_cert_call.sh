#!/usr/bin/env bash
# What certificate-signed calls (DESIGN §8) add to SIP call set-up, beside plain SIP and the
# SIM's aka authentication: the same oag-phone pair (alice calls bob, enrolled certificates)
# through the same Kamailio over TLS, which also checks each signed INVITE's Identity (x5u
# fetched from alice's home gateway). Set-up = from the caller's start (the callee's
# certificate fetched from its home through our gateway, or its vector) to the ACK sent.
#   tests/bench/bench_cert_call.sh [CALLS per run, default 300]
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${1:-300}
BUILD=${OAG_BUILD_DIR:-build}
phone="$BUILD/tools/oag-phone/oag-phone"
work=$(mktemp -d /tmp/oag-bench-cert-XXXXXX)
# shellcheck source=deploy/lib.sh
. deploy/lib.sh
trap 'stop_all; [ -n "${OAG_BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

start_pair --rate 1000000 --burst 1000000 --kinds sim,aka,certificates
start_kamailio_tls
a="$work/op-a.example" b="$work/op-b.example"
run() {  # name "extra options for both"
  local name=$1 out="$work/bob-$1.out"
  # shellcheck disable=SC2046,SC2086
  "$phone" answer $(cert_phone_args op-b.example bob@op-b.example "$b/bob@op-b.example.pem" \
    "$b/bob@op-b.example.key" "$b/chain.pem") --sim "$b/bob.sim.json" $2 > "$out" 2>&1 &
  local bob=$!
  pids+=("$bob")
  wait_for "$out" "^registered"
  # shellcheck disable=SC2046,SC2086
  "$phone" call bob@op-b.example $(cert_phone_args op-a.example alice@op-a.example \
    "$a/alice@op-a.example.pem" "$a/alice@op-a.example.key" "$a/chain.pem") --sim "$a/alice.sim.json" $2 ${3:-} \
    --count "$CALLS" --hold-ms 0 --quiet --json | tail -1 > "$work/$name.json"
  kill "$bob"
  wait "$bob" || true
}
for round in 1 2; do
  run "plain-$round" "--auth none"
  run "aka-$round" "--auth sim" "--kind aka"
  run "cert-$round" "--auth cert"
done
python3 - "$work" "$CALLS" <<'PY'
import json, sys, pathlib
work, calls = pathlib.Path(sys.argv[1]), sys.argv[2]
runs = {p.stem: json.loads(p.read_text()) for p in sorted(work.glob("*.json"))}
print(f"oag-phone pair through Kamailio over TLS (Identity checked by the proxy), {calls} calls a "
      "run, one at a time; two oagd, Kamailio and both phones on this machine's 2 cores")
print(f"{'run':10} {'ok':>5} {'p50 ms':>8} {'p99 ms':>8} {'calls/s':>8}")
for k, v in runs.items():
    print(f"{k:10} {v['ok']:5d} {v['p50_ms']:8.3f} {v['p99_ms']:8.3f} {v['calls_per_s']:8.1f}")
best = lambda kind, q: min(runs[f"{kind}-{r}"][q] for r in (1, 2))
for kind in ("aka", "cert"):
    print(f"{kind} authentication adds: p50 {best(kind, 'p50_ms') - best('plain', 'p50_ms'):.3f} ms, "
          f"p99 {best(kind, 'p99_ms') - best('plain', 'p99_ms'):.3f} ms")
bad = [k for k, v in runs.items() if v["ok"] != v["calls"]]
if bad: sys.exit("runs with failed calls: " + ", ".join(bad))
PY
