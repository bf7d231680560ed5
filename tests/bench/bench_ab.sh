#!/usr/bin/env bash
# Two builds of oagd side by side in one run (before/after a change): each pinned to CPU 0 in turn,
# the NEW build's oag-bench on CPU 1, durable aka×1 vectors, two alternating rounds each.
#   tests/bench/bench_ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [SECONDS, default 10] [CONNECTIONS, default 64]
# (OLD_BUILD_DIR: e.g. `git worktree add /tmp/old REV` built with cmake into /tmp/old/build.)
set -euo pipefail
OLD=$1 NEW=$2 SECS=${3:-10} CONNS=${4:-64}
work=$(mktemp -d /tmp/oag-ab-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
setup() {  # BUILD_DIR NAME
  local b=$1 d=$work/$2
  $b/tools/oagctl/oagctl init --realm op-a.example --dir $d >/dev/null
  $b/tools/oagctl/oagctl --config $d/oagd.json subscriber add --nai alice@op-a.example --imsi 001010000000001 \
    --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 >/dev/null
  $b/tools/oagctl/oagctl --config $d/oagd.json endpoint issue-cert --nai alice@op-a.example --out-dir $d >/dev/null
  python3 - $d/oagd.json visitor <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0}}
if sys.argv[2] == "visitor": c["listeners"]["visitor"] = {"address": "127.0.0.1", "port": 0}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[1], "w"))
PY
  # A build from before the visitor listener refuses its section: then without it.
  if ! $b/gateway/oagd --check-config --config $d/oagd.json >/dev/null 2>&1; then
    python3 - $d/oagd.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"].pop("visitor", None)
json.dump(c, open(sys.argv[1], "w"))
PY
  fi
}
run() {  # BUILD_DIR NAME
  local b=$1 d=$work/$2
  taskset -c 0 $b/gateway/oagd --config $d/oagd.json > $d/out 2> $d/log &
  local p=$!
  pids+=($p)
  for _ in $(seq 200); do grep -q "listening ops" $d/out 2>/dev/null && break; sleep 0.05; done
  local port=$(awk '/listening endpoint/ {print $4}' $d/out)
  taskset -c 1 $NEW/tools/oag-bench/oag-bench --json --port $port --ca $d/endpoint-ca.pem \
    --cert $d/alice@op-a.example.pem --key $d/alice@op-a.example.key --connections $CONNS \
    --seconds $SECS --nai alice@op-a.example --kind aka
  kill $p; wait $p || true
}
setup $OLD old
setup $NEW new
for round in 1 2; do
  echo "old round $round: $(run $OLD old)"
  echo "new round $round: $(run $NEW new)"
done
