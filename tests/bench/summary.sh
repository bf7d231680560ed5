#!/usr/bin/env bash
# One table of the ratios that the README and the closing notes quote, each pair measured side
# by side in this run (the machine is noisy: only figures of one run are compared): oagd ÷ nginx
# (durable aka×1 at 64 connections, server on one core), the store durable ÷ without fsync,
# brokered ÷ local vectors at 16 connections, call set-up with authentication ÷ without, a
# roaming login through a foreign agent ÷ a local vector fetch, with the issue's aims beside them.
#   tests/bench/summary.sh [SECONDS per run, default 10] [SIP CALLS per run, default 300]
# Exit 1 if a benchmark fails; aims not reached are reported, not failed (they are goals).
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:-10}
CALLS=${2:-300}
BUILD=${OAG_BUILD_DIR:-build}
summary=$(mktemp /tmp/oag-bench-summary-XXXXXX)
logs=$(mktemp -d /tmp/oag-bench-logs-XXXXXX)
trap 'rm -rf "$summary" "$logs"' EXIT
export OAG_BENCH_SUMMARY=$summary

run() {  # name command...
  local name=$1
  shift
  "$@" >"$logs/$name.log" 2>&1 || { cat "$logs/$name.log" >&2; echo "summary: $name failed" >&2; exit 1; }
}
run storage "$BUILD/tests/bench/bench_storage" "$S"
run gateway tests/bench/bench_gateway.sh "$S" 64
run federation tests/bench/bench_federation.sh "$S" 16
run sip tests/bench/bench_sip.sh "$CALLS"
run login tests/bench/bench_login.sh "$S" 4

python3 - "$summary" "$S" "$CALLS" <<'PY'
import json, sys
b = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    b[r["bench"]] = r
missing = {"storage", "gateway", "federation", "sip", "login"} - set(b)
if missing:
    sys.exit("summary: no figures from " + ", ".join(sorted(missing)))
g, st, fe, sip, lo = b["gateway"], b["storage"], b["federation"], b["sip"], b["login"]
rows = [
    ("oagd durable aka x1 / nginx static, 64 conns (rate)", g["oagd_rps"] / g["nginx_rps"], ">= 0.5", lambda v: v >= 0.5),
    ("oagd p99 / nginx p99, same runs", g["oagd_p99_ms"] / g["nginx_p99_ms"], "<= 3", lambda v: v <= 3),
    ("oagd peak RSS under that load, MiB", g["rss_kib"] / 1024, "<= 64", lambda v: v <= 64),
    ("store: durable async issues/s (256 in flight)", st["async_per_s"], ">= 50000", lambda v: v >= 50000),
    ("store: durable / no fsync, 16 callers", st["callers16_per_s"] / st["nosync16_per_s"], "", None),
    ("brokered / local vectors/s, 16 conns", fe["brokered_vps"] / fe["local_vps"], ">= 0.5", lambda v: v >= 0.5),
    ("call set-up p50, sim auth / plain SIP", sip["sim_p50_ms"] / sip["plain_p50_ms"], "", None),
    ("call set-up p50, aka auth / plain SIP", sip["aka_p50_ms"] / sip["plain_p50_ms"], "", None),
    ("roaming login via FA p50 / local vector p50", lo["fa_login_p50_ms"] / lo["local_vector_p50_ms"], "", None),
]
print(f"benchmark summary: {sys.argv[2]} s per run, {sys.argv[3]} SIP calls per run, one run, this machine")
print(f"{'measure':54} {'value':>10} {'aim':>9}  reached")
for name, v, aim, ok in rows:
    fmt = f"{v:10.0f}" if v >= 100 else f"{v:10.2f}"
    print(f"{name:54} {fmt} {aim:>9}  {'' if ok is None else ('yes' if ok(v) else 'no')}")
print(f"figures: nginx {g['nginx_rps']:.0f} req/s, oagd {g['oagd_rps']:.0f} vectors/s; "
      f"store 1 caller {st['one_caller_per_s']:.0f}/s, 16 callers {st['callers16_per_s']:.0f}/s, "
      f"no fsync {st['nosync16_per_s']:.0f}/s; local {fe['local_vps']:.0f}, brokered {fe['brokered_vps']:.0f} vectors/s; "
      f"SIP p50 plain {sip['plain_p50_ms']:.1f}, sim {sip['sim_p50_ms']:.1f}, aka {sip['aka_p50_ms']:.1f} ms; "
      f"home agent {lo['ha_logins_per_s_one_core']:.0f} logins/s on one core")
PY
