#!/usr/bin/env bash
# Roaming logins (DESIGN §7), side by side in one run on this machine:
#  1. logins/s at the home agent on one core: oagd op-a.example on CPU 0 (one I/O thread), the
#     logging-in clients on CPU 1, at home (the HA answers M2 itself: seal, HV, certificate,
#     the login's transaction);
#  2. one roaming login at a time through the foreign agent op-b.example (both oagd on CPU 0),
#     p50/p99, beside one local vector fetch at op-b's endpoint listener: what a roaming login
#     adds. pwd_key is computed once: the client's scrypt is not measured.
#   tests/bench/bench_login.sh [SECONDS, default 10] [THREADS, default 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
THREADS=${2:-8}
BUILD=${OAG_BUILD_DIR:-build}
work=$(mktemp -d /tmp/oag-bench-login-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ "${OAG_BENCH_KEEP:-}" = 1 ] || rm -rf "$work"' EXIT
ctl="$BUILD/tools/oagctl/oagctl"
start() {  # REALM
  local dir="$work/$1"
  $ctl init --realm "$1" --dir "$dir" >/dev/null
  python3 - "$dir/oagd.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0},
                  "visitor": {"address": "127.0.0.1", "port": 0}}
c["roaming"] = {"logins_per_minute_per_address": 1000000}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[1], "w"))
PY
  taskset -c 0 "$BUILD/gateway/oagd" --config "$dir/oagd.json" > "$dir/oagd.out" 2> "$dir/oagd.log" &
  pids+=($!)
  for _ in $(seq 200); do grep -q "listening ops" "$dir/oagd.out" 2>/dev/null && return 0; sleep 0.05; done
  cat "$dir/oagd.log" >&2
  return 1
}
port() { awk -v l="$2" '$1 == "listening" && $2 == l {print $4}' "$work/$1/oagd.out"; }
start op-a.example
start op-b.example
a="$work/op-a.example" b="$work/op-b.example"
$ctl --config "$a/oagd.json" subscriber add --nai carol@op-a.example --no-sim >/dev/null
(umask 077; echo "carol-$(openssl rand -hex 8)" > "$work/carol.password")
$ctl --config "$a/oagd.json" subscriber set-password --nai carol@op-a.example \
  --password-file "$work/carol.password" >/dev/null
$ctl --config "$a/oagd.json" subscriber profile --nai carol@op-a.example --out "$work/carol.json" >/dev/null
$ctl --config "$b/oagd.json" subscriber add --nai bob@op-b.example --imsi 001020000000001 \
  --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 >/dev/null
$ctl --config "$b/oagd.json" endpoint issue-cert --nai bob@op-b.example --out-dir "$b" >/dev/null
for pair in "op-a.example op-b.example" "op-b.example op-a.example"; do
  set -- $pair
  $ctl --config "$work/$1/oagd.json" agreement add --id "$1--$2" --realm "$2" \
    --url "https://127.0.0.1:$(port "$2" federation)" --ca-file "$work/$2/federation-ca.pem" \
    --user-ca-file "$work/$2/endpoint-ca.pem" --kinds sim,aka,login --rate 1000000 \
    --burst 1000000 >/dev/null
done
bench="$BUILD/tests/bench/bench_login"
echo "bench_login: both oagd on CPU 0 (one I/O thread each), clients on CPU 1, $SECONDS_PER_RUN s each"
echo "-- logins at the home agent, $THREADS threads:"
ha_pid=${pids[0]}
cpu() { awk '{print $14 + $15}' "/proc/$ha_pid/stat"; }  # the HA's user+system clock ticks
c0=$(cpu)
taskset -c 1 "$bench" login "$(port op-a.example visitor)" "$work/carol.json" "$work/carol.password" \
  "$SECONDS_PER_RUN" "$THREADS" | tee "$work/home.json"
c1=$(cpu)
# The clients (key pair, CSR, X25519, chain check) saturate CPU 1 before the HA does: its
# capacity on one core is what one login costs it in CPU time.
python3 - "$work/home.json" "$c0" "$c1" "$(getconf CLK_TCK)" "$work/ha_capacity" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); ticks = float(sys.argv[3]) - float(sys.argv[2])
cpu_s = ticks / float(sys.argv[4]); per = cpu_s / max(r["count"], 1)
print(f'home agent: {cpu_s:.2f} s of CPU for {r["count"]} logins = {per*1000:.2f} ms a login, '
      f'{1/per:.0f} logins/s on one core')
with open(sys.argv[5], "w") as f:
    f.write(str(1 / per))
PY
echo "-- one roaming login at a time through the foreign agent:"
taskset -c 1 "$bench" login "$(port op-b.example visitor)" "$work/carol.json" "$work/carol.password" \
  "$SECONDS_PER_RUN" 1 | tee "$work/fa.json"
echo "-- one local vector fetch at a time at the foreign agent's endpoint listener (the baseline):"
taskset -c 1 "$bench" vectors "$(port op-b.example endpoint)" "$b/endpoint-ca.pem" \
  "$b/bob@op-b.example.pem" "$b/bob@op-b.example.key" bob@op-b.example "$SECONDS_PER_RUN" 1 |
  tee "$work/local.json"
if [ -n "${OAG_BENCH_SUMMARY:-}" ]; then  # tests/bench/summary.sh collects the figures
  python3 - "$work" >>"$OAG_BENCH_SUMMARY" <<'PY'
import json, sys
w = sys.argv[1]
fa, local = json.load(open(w + "/fa.json")), json.load(open(w + "/local.json"))
print(json.dumps({"bench": "login", "ha_logins_per_s_one_core": float(open(w + "/ha_capacity").read()),
                  "fa_login_p50_ms": fa["p50_ms"], "local_vector_p50_ms": local["p50_ms"]}))
PY
fi
echo "billing after the runs: op-a $($ctl --config "$a/oagd.json" --json billing verify)"
echo "                        op-b $($ctl --config "$b/oagd.json" --json billing verify)"
