#!/usr/bin/env bash
# The main job: two operators (op-a.example with alice, op-b.example with bob), each with its own
# oagd, agreements both ways, a Kamailio proxy on loopback, and two oag-phone endpoints that
# authenticate each other end to end with their SIMs during INVITE / 200 OK / ACK: a sim call,
# an aka call, then a call where bob's SIM holds a wrong K (it fails and is closed). Then both
# operators export their billing and reconcile it. Every process it starts, it stops.
#   deploy/demo.sh            installs what is missing (Debian 12), builds, runs
#   OAG_DEMO_KEEP=1 deploy/demo.sh   keeps the work directory for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh

BUILD=${OAG_BUILD_DIR:-build}
ctl="$BUILD/tools/oagctl/oagctl"
phone="$BUILD/tools/oag-phone/oag-phone"
work=$(mktemp -d /tmp/oag-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${OAG_DEMO_KEEP:-}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
# Waits (up to 10 s) for a line matching $2 in file $1: the processes print when they are ready.
wait_for() { for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; cat "$1" >&2; return 1; }

start_operator() {  # realm user imsi
  local realm=$1 user=$2 imsi=$3 dir="$work/$1"
  $ctl init --realm "$realm" --dir "$dir" >/dev/null
  local k op
  k=$(openssl rand -hex 16)
  op=$(openssl rand -hex 16)
  (umask 077; printf "nai,imsi,k,op\n%s,%s,%s,%s\n" "$user@$realm" "$imsi" "$k" "$op" > "$dir/subscribers.csv")
  $ctl --config "$dir/oagd.json" subscriber import "$dir/subscribers.csv" >/dev/null
  $ctl --config "$dir/oagd.json" endpoint issue-cert --nai "$user@$realm" --out-dir "$dir" >/dev/null
  (umask 077; printf '{"imsi":"%s","k":"%s","op":"%s"}\n' "$imsi" "$k" "$op" > "$dir/$user.sim.json")
  # The same SIM with another K: the failing call.
  (umask 077; printf '{"imsi":"%s","k":"%s","op":"%s"}\n' "$imsi" "$(openssl rand -hex 16)" "$op" \
    > "$dir/$user-wrong-k.sim.json")
  python3 - "$dir/oagd.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0}}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
  "$BUILD/gateway/oagd" --config "$dir/oagd.json" > "$dir/oagd.out" 2> "$dir/oagd.log" &
  pids+=($!)
  wait_for "$dir/oagd.out" "listening ops"
  echo "oagd $realm: $(grep -c listening "$dir/oagd.out") listeners up, subscriber $user@$realm"
}
port_of() { awk -v l="$2" '$1 == "listening" && $2 == l {print $4}' "$work/$1/oagd.out"; }
free_port() { python3 -c 'import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(type=socket.SOCK_DGRAM)
    try: u.bind(("127.0.0.1", p))
    except OSError: continue
    print(p); break'; }

say "two operators"
start_operator op-a.example alice 001010000000001
start_operator op-b.example bob 001020000000001
$ctl --config "$work/op-a.example/oagd.json" agreement add --id a-b --realm op-b.example \
  --url "https://127.0.0.1:$(port_of op-b.example federation)" \
  --ca-file "$work/op-b.example/federation-ca.pem" --price 0.015 --currency EUR >/dev/null
$ctl --config "$work/op-b.example/oagd.json" agreement add --id b-a --realm op-a.example \
  --url "https://127.0.0.1:$(port_of op-a.example federation)" \
  --ca-file "$work/op-a.example/federation-ca.pem" --price 0.015 --currency EUR >/dev/null
echo "agreements: op-a → op-b (a-b, 0.015 EUR) and op-b → op-a (b-a, 0.015 EUR each way)"

say "Kamailio on loopback"
sip_port=$(free_port)
mkdir -p "$work/kamailio"
kamailio -DD -E -f deploy/kamailio/kamailio.cfg -l "udp:127.0.0.1:$sip_port" -l "tcp:127.0.0.1:$sip_port" \
  -Y "$work/kamailio" -P "$work/kamailio/kamailio.pid" 2> "$work/kamailio/kamailio.log" &
pids+=($!)
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$sip_port) 2>/dev/null && break; sleep 0.05; done
echo "kamailio $(kamailio -v | head -1 | awk '{print $3}') listening on 127.0.0.1:$sip_port (udp, tcp)"

phone_args() {  # realm user sim
  echo --nai "$2@$1" --proxy "127.0.0.1:$sip_port" --sim "$work/$1/$3" \
    --ag "127.0.0.1:$(port_of "$1" endpoint)" --ca "$work/$1/endpoint-ca.pem" \
    --cert "$work/$1/$2@$1.pem" --key "$work/$1/$2@$1.key"
}
results=()
call() {  # title kind bob-sim transport
  say "$1"
  local out="$work/bob-$2-$3.out"
  # shellcheck disable=SC2046
  $phone answer $(phone_args op-b.example bob "$3") --transport "$4" --calls 1 > "$out" 2>&1 &
  local bob=$!
  pids+=($bob)
  wait_for "$out" "^registered"
  echo "-- alice (caller)"
  local rc=0 alice_out="$work/alice-$2-$3.out"
  # shellcheck disable=SC2046
  $phone call bob@op-b.example $(phone_args op-a.example alice alice.sim.json) --transport "$4" \
    --kind "$2" > "$alice_out" 2>&1 || rc=$?
  cat "$alice_out"
  wait "$bob" || true
  echo "-- bob (callee)"
  cat "$out"
  local verdict='mutually authenticated|authentication failed'
  results+=("$1"$'\n'"   alice: $(grep -E "^($verdict)" "$alice_out" | head -1) (exit $rc)"$'\n'"   bob:   $(grep -E "^($verdict)" "$out" | head -1)")
}
call "call 1: sim over UDP" sim bob.sim.json udp
call "call 2: aka over TCP" aka bob.sim.json tcp
call "call 3: bob's SIM holds a wrong K (sim, UDP)" sim bob-wrong-k.sim.json udp

say "billing: export both operators, reconcile"
for r in op-a.example op-b.example; do
  $ctl --config "$work/$r/oagd.json" billing export --output "$work/$r.csv" >/dev/null
  echo "$r: $($ctl --config "$work/$r/oagd.json" billing verify)"
done
$ctl --config "$work/op-a.example/oagd.json" billing reconcile "$work/op-a.example.csv" "$work/op-b.example.csv"
recon=$($ctl --json --config "$work/op-a.example/oagd.json" billing reconcile "$work/op-a.example.csv" "$work/op-b.example.csv")

say "summary"
for r in "${results[@]}"; do echo "$r"; done
echo "reconcile: $recon"
