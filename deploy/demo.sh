#!/usr/bin/env bash
# The main job: two operators (op-a.example with alice, op-b.example with bob), each with its own
# oagd, agreements both ways, a Kamailio proxy on loopback, and two oag-phone endpoints that
# authenticate each other end to end with their SIMs during INVITE / 200 OK / ACK: a sim call,
# an aka call, then a call where bob's SIM holds a wrong K (it fails and is closed). Then carol,
# a password user of op-a, logs in as a visitor through op-b's gateway and gets her certificate
# from her home gateway (and a wrong password is refused with the home agent's proof). With that
# certificate she calls bob over TLS with a certificate-signed call (DESIGN §8): Identity header
# and S/MIME bodies, checked by bob and, for the Identity, by Kamailio itself. Then both
# operators export their billing and reconcile it. Every process it starts, it stops.
#   deploy/demo.sh            installs what is missing (Debian 12), builds, runs
#   OAG_DEMO_KEEP=1 deploy/demo.sh   keeps the work directory for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh

BUILD=${OAG_BUILD_DIR:-build}
phone="$BUILD/tools/oag-phone/oag-phone"
work=$(mktemp -d /tmp/oag-demo-XXXXXX)
# shellcheck source=deploy/lib.sh
. deploy/lib.sh
cleanup() {
  stop_all
  if [ "${OAG_DEMO_KEEP:-}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "two operators"
start_pair --price 0.015 --currency EUR --kinds sim,aka,login,certificates
echo "oagd op-a.example with alice, oagd op-b.example with bob (random K/OP, imported)"
echo "each endpoint enrolled with its SIM (HTTP Digest AKA on its gateway's visitor listener):"
echo "  no administrator issued a certificate"
sed 's/^/  /' "$work/op-a.example/enroll.out" "$work/op-b.example/enroll.out"
echo "agreements: op-a → op-b (a-b) and op-b → op-a (b-a), 0.015 EUR a vector (or a login) each way"

say "Kamailio on loopback"
start_kamailio_tls
echo "kamailio $(kamailio -v | head -1 | awk '{print $3}') listening on 127.0.0.1:$sip_port (udp, tcp) and 127.0.0.1:$tls_port (tls: client certificates of both operators' user CAs), config deploy/kamailio/kamailio.cfg"
echo "  it checks the Identity header of signed INVITEs itself (secsipid: x5u fetched from the caller's home, chain checked)"

results=()
unexpected=0
call() {  # title kind bob-sim transport expected-alice-exit
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
  [ "$rc" = "$5" ] || unexpected=1
}
call "call 1: sim over UDP" sim bob.sim.json udp 0
call "call 2: aka over TCP" aka bob.sim.json tcp 0
call "call 3: bob's SIM holds a wrong K (sim, UDP)" sim bob-wrong-k.sim.json udp 1

say "roaming login: carol@op-a.example, a password user without a SIM, visits op-b.example"
a="$work/op-a.example"
(umask 077; echo "carol-$(openssl rand -hex 8)" > "$work/carol.password"
 echo "not carol's password" > "$work/wrong.password")
$ctl --config "$a/oagd.json" subscriber add --nai carol@op-a.example --no-sim >/dev/null
$ctl --config "$a/oagd.json" subscriber set-password --nai carol@op-a.example \
  --password-file "$work/carol.password"
$ctl --config "$a/oagd.json" subscriber profile --nai carol@op-a.example --out "$work/carol.profile.json"
via="https://127.0.0.1:$(port_of op-b.example visitor)"
echo "-- carol logs in through op-b's gateway (foreign agent); op-a's (home agent) decides"
login_rc=0
$phone login --profile "$work/carol.profile.json" --via "$via" --password-file "$work/carol.password" \
  --out "$work/carol" > "$work/carol-login.out" 2>&1 || login_rc=$?
cat "$work/carol-login.out"
echo "-- the same, with a wrong password"
wrong_rc=0
$phone login --profile "$work/carol.profile.json" --via "$via" --password-file "$work/wrong.password" \
  --out "$work/carol-wrong" > "$work/carol-wrong.out" 2>&1 || wrong_rc=$?
cat "$work/carol-wrong.out"
openssl verify -CAfile "$work/carol/chain.pem" "$work/carol/carol@op-a.example.pem" | sed 's/^/openssl: /'
results+=("roaming login of carol through op-b.example"$'\n'"   right password: $(grep -E '^(logged in|login refused)' "$work/carol-login.out") (exit $login_rc)"$'\n'"   wrong password: $(grep -E '^(logged in|login refused)' "$work/carol-wrong.out") (exit $wrong_rc)")
[ "$login_rc" = 0 ] || unexpected=1
[ "$wrong_rc" = 1 ] && grep -q 'proven by the home agent' "$work/carol-wrong.out" || unexpected=1

say "call 4: carol (logged in above, visiting op-b) calls bob with certificates over TLS"
b="$work/op-b.example"
bob_out="$work/bob-cert.out" carol_out="$work/carol-cert.out"
# shellcheck disable=SC2046
$phone answer $(cert_phone_args op-b.example bob@op-b.example "$b/bob@op-b.example.pem" \
  "$b/bob@op-b.example.key" "$b/chain.pem") --auth cert --calls 1 > "$bob_out" 2>&1 &
bob_pid=$!
pids+=($bob_pid)
wait_for "$bob_out" "^registered"
echo "-- carol (caller): fetches bob's certificate through her home gateway from op-b's, signs"
cert_rc=0
# shellcheck disable=SC2046
$phone call bob@op-b.example $(cert_phone_args op-a.example carol@op-a.example \
  "$work/carol/carol@op-a.example.pem" "$work/carol/carol@op-a.example.key" "$work/carol/chain.pem") \
  --auth cert > "$carol_out" 2>&1 || cert_rc=$?
cat "$carol_out"
wait "$bob_pid" || true
echo "-- bob (callee)"
cat "$bob_out"
proxy_check=$(grep -o 'oag-proxy: Identity of [^ ]* [a-z]*' "$work/kamailio/kamailio.log" | tail -1 || true)
echo "-- the proxy: $proxy_check"
verdict='mutually authenticated|authentication failed'
results+=("call 4: carol calls bob with certificates over TLS"$'\n'"   carol: $(grep -E "^($verdict)" "$carol_out" | head -1) (exit $cert_rc)"$'\n'"   bob:   $(grep -E "^($verdict)" "$bob_out" | head -1)"$'\n'"   proxy: ${proxy_check#oag-proxy: }")
[ "$cert_rc" = 0 ] || unexpected=1
[ "$(grep -oE 'media keys [0-9a-f]{16}' "$carol_out")" = "$(grep -oE 'media keys [0-9a-f]{16}' "$bob_out")" ] || unexpected=1
case "$proxy_check" in *verified) ;; *) unexpected=1 ;; esac

say "billing: export both operators, reconcile"
for r in op-a.example op-b.example; do
  $ctl --config "$work/$r/oagd.json" billing export --output "$work/$r.csv" >/dev/null
  echo "$r: $($ctl --config "$work/$r/oagd.json" billing verify)"
done
recon_rc=0
$ctl --config "$work/op-a.example/oagd.json" billing reconcile "$work/op-a.example.csv" \
  "$work/op-b.example.csv" || recon_rc=$?

say "summary"
for r in "${results[@]}"; do echo "$r"; done
echo "billing: both chains intact; the two exports (vectors, carol's login, the certificate lookups) reconcile one to one (exit $recon_rc)"
if [ "$unexpected" = 1 ] || [ "$recon_rc" != 0 ]; then
  echo "demo: an outcome was not the expected one" >&2
  exit 1
fi
echo "demo: all outcomes as expected"
