#!/usr/bin/env bash
# Two oagd instances (IND 0 and 1, a billing chain each) on one PostgreSQL against one instance,
# in one run: durable aka x1 vectors for the same subscriber, oag-bench keep-alive TLS load.
# PostgreSQL is a server of its own (tests/pg/pg_server.sh). Not pinned: PostgreSQL, the
# daemons and the load share this machine's cores.
#   tests/bench/bench_instances.sh [SECONDS per run, default 10] [CONNECTIONS in all, default 32]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNS=${2:-32}
BUILD=${OAG_BUILD_DIR:-build}
ctl="$BUILD/tools/oagctl/oagctl"

work=$(mktemp -d /tmp/oag-bench-inst-XXXXXX)
chmod 755 "$work"  # as root the server runs as `postgres`
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  tests/pg/pg_server.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

tests/pg/pg_server.sh start "$work/pg"
conninfo=$(cat "$work/pg/conninfo")
$ctl init --realm op-a.example --dir "$work/op" --store "$conninfo" --instance i0 >/dev/null
$ctl --config "$work/op/oagd.json" subscriber add --nai alice@op-a.example --imsi 001010000000001 \
  --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 >/dev/null
$ctl --config "$work/op/oagd.json" endpoint issue-cert --nai alice@op-a.example --out-dir "$work/op" >/dev/null
for i in 0 1; do
  python3 - "$work/op/oagd.json" "$work/oagd$i.json" "$i" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
i = int(sys.argv[3])
c["store"]["instance"] = f"i{i}"
c["store"]["ind_slot"] = i
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0},
                  "visitor": {"address": "127.0.0.1", "port": 0}}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[2], "w"))
PY
  "$BUILD/gateway/oagd" --config "$work/oagd$i.json" > "$work/oagd$i.out" 2> "$work/oagd$i.err" &
  pids+=($!)
done
for i in 0 1; do
  for _ in $(seq 200); do grep -q "listening endpoint" "$work/oagd$i.out" 2>/dev/null && break; sleep 0.05; done
done
port0=$(awk '/listening endpoint/ {print $4}' "$work/oagd0.out")
port1=$(awk '/listening endpoint/ {print $4}' "$work/oagd1.out")

bench() {
  "$BUILD/tools/oag-bench/oag-bench" --json --port "$1" --ca "$work/op/endpoint-ca.pem" \
    --cert "$work/op/alice@op-a.example.pem" --key "$work/op/alice@op-a.example.key" \
    --connections "$2" --seconds "$SECONDS_PER_RUN" --kind aka --count 1
}

echo "bench_instances: $CONNS connections in all, $SECONDS_PER_RUN s per run, durable aka x1 on PostgreSQL"
one=$(bench "$port0" "$CONNS")
bench "$port0" $((CONNS / 2)) > "$work/two0.json" &
b0=$!
bench "$port1" $((CONNS / 2)) > "$work/two1.json" &
b1=$!
wait $b0 $b1
verify=$($ctl --config "$work/op/oagd.json" --json billing verify)

python3 - "$one" "$(cat "$work/two0.json")" "$(cat "$work/two1.json")" "$verify" <<'PY'
import json, sys
one, a, b, v = (json.loads(x) for x in sys.argv[1:5])
two = a["requests_per_s"] + b["requests_per_s"]
print(f"one instance:  {one['requests_per_s']:8.0f} req/s  p50 {one['p50_ms']:.2f} ms  p99 {one['p99_ms']:.2f} ms")
print(f"two instances: {two:8.0f} req/s  (i0 {a['requests_per_s']:.0f}, i1 {b['requests_per_s']:.0f})  "
      f"p99 {max(a['p99_ms'], b['p99_ms']):.2f} ms")
print(f"ratio two / one: {two / one['requests_per_s']:.2f}")
print("billing: " + ", ".join(f"chain {c['chain']} {c['records']} records ok={c['ok']}" for c in v["chains"]))
errors = sum(r["errors"] + r["non_200"] for r in (one, a, b))
if errors or not v["ok"]:
    sys.exit(f"errors: {errors}, billing ok: {v['ok']}")
PY
