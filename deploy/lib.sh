# Shell functions shared by the demo and the benchmarks (source it; needs $BUILD and $work):
# operators made with oagctl, their oagd on free loopback ports, agreements, a Kamailio.
# Every process started is appended to the array `pids` for the caller's cleanup.

ctl="$BUILD/tools/oagctl/oagctl"
pids=()

# Waits (up to 10 s) for a line matching $2 in file $1: the processes print when they are ready.
wait_for() {
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  cat "$1" >&2
  return 1
}

# start_operator REALM USER IMSI: database, CAs, a subscriber with a random K/OP (imported from
# a 0600 CSV), SIM profiles (the right K, and a wrong one), a running oagd with every listener on
# a free loopback port, and the user's endpoint certificate, obtained by enrolling with the SIM
# (oag-phone enroll: HTTP Digest AKA on the visitor listener; no administrator step).
start_operator() {
  local realm=$1 user=$2 imsi=$3 dir="$work/$1" k op
  "$ctl" init --realm "$realm" --dir "$dir" >/dev/null
  k=$(openssl rand -hex 16)
  op=$(openssl rand -hex 16)
  (umask 077
   printf 'nai,imsi,k,op\n%s,%s,%s,%s\n' "$user@$realm" "$imsi" "$k" "$op" > "$dir/subscribers.csv"
   printf '{"imsi":"%s","k":"%s","op":"%s"}\n' "$imsi" "$k" "$op" > "$dir/$user.sim.json"
   printf '{"imsi":"%s","k":"%s","op":"%s"}\n' "$imsi" "$(openssl rand -hex 16)" "$op" \
     > "$dir/$user-wrong-k.sim.json")
  "$ctl" --config "$dir/oagd.json" subscriber import "$dir/subscribers.csv" >/dev/null
  python3 - "$dir/oagd.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0},
                  "visitor": {"address": "127.0.0.1", "port": 0}}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
  "$BUILD/gateway/oagd" --config "$dir/oagd.json" > "$dir/oagd.out" 2> "$dir/oagd.log" &
  pids+=($!)
  wait_for "$dir/oagd.out" "listening ops"
  "$BUILD/tools/oag-phone/oag-phone" enroll --nai "$user@$realm" --sim "$dir/$user.sim.json" \
    --ag "127.0.0.1:$(port_of "$realm" visitor)" --ca "$dir/endpoint-ca.pem" --out "$dir" \
    > "$dir/enroll.out"
}

# start_pair [oagctl agreement options...]: op-a.example with alice and op-b.example with bob,
# each buying the other's vectors under the options given (agreements a-b and b-a).
start_pair() {
  start_operator op-a.example alice 001010000000001
  start_operator op-b.example bob 001020000000001
  agree op-a.example op-b.example a-b "$@"
  agree op-b.example op-a.example b-a "$@"
}

# stop_all: stops every process started here (for the caller's EXIT trap).
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# port_of REALM LISTENER: the port an operator's oagd listens on.
port_of() { awk -v l="$2" '$1 == "listening" && $2 == l {print $4}' "$work/$1/oagd.out"; }

# agree AT PEER ID [oagctl agreement options...]: AT buys PEER's vectors under agreement ID (and
# names PEER's endpoint CA as the anchor of its users' certificates).
agree() {
  local at=$1 peer=$2 id=$3
  shift 3
  "$ctl" --config "$work/$at/oagd.json" agreement add --id "$id" --realm "$peer" \
    --url "https://127.0.0.1:$(port_of "$peer" federation)" \
    --ca-file "$work/$peer/federation-ca.pem" --user-ca-file "$work/$peer/endpoint-ca.pem" \
    "$@" >/dev/null
}

# start_kamailio [-A WITH_TOPOH]: Kamailio on a free loopback port (UDP and TCP) in $sip_port.
start_kamailio() {
  sip_port=$(python3 -c 'import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(type=socket.SOCK_DGRAM)
    try: u.bind(("127.0.0.1", p))
    except OSError: continue
    print(p); break')
  mkdir -p "$work/kamailio"
  kamailio -DD -E -f deploy/kamailio/kamailio.cfg -l "udp:127.0.0.1:$sip_port" \
    -l "tcp:127.0.0.1:$sip_port" -Y "$work/kamailio" -P "$work/kamailio/kamailio.pid" "$@" \
    > "$work/kamailio/kamailio.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$sip_port") 2>/dev/null && return 0; sleep 0.05; done
  cat "$work/kamailio/kamailio.log" >&2
  return 1
}

# phone_args REALM USER SIM: oag-phone options for USER of REALM with SIM profile file SIM.
phone_args() {
  echo --nai "$2@$1" --proxy "127.0.0.1:$sip_port" --sim "$work/$1/$3" \
    --ag "127.0.0.1:$(port_of "$1" endpoint)" --ca "$work/$1/endpoint-ca.pem" \
    --cert "$work/$1/$2@$1.pem" --key "$work/$1/$2@$1.key"
}

# start_kamailio_tls: Kamailio with UDP/TCP on $sip_port and TLS on $tls_port, checking client
# certificates against both operators' user CAs and INVITEs' Identity headers (the secsipid
# module, x5u fetched over HTTPS from the caller's home gateway; Go trusts $SSL_CERT_FILE).
# Its certificate (self-signed, for 127.0.0.1) is $work/proxy/proxy.pem.
start_kamailio_tls() {
  local d="$work/proxy"
  mkdir -p "$d"
  cat "$work/op-a.example/endpoint-ca.pem" "$work/op-b.example/endpoint-ca.pem" > "$d/user-cas.pem"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$d/proxy.key" -out "$d/proxy.pem" 2>/dev/null
  cat > "$d/tls.cfg" <<TLS
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = $d/proxy.key
certificate = $d/proxy.pem
ca_list = $d/user-cas.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
TLS
  tls_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SSL_CERT_FILE="$d/user-cas.pem" start_kamailio -l "tls:127.0.0.1:$tls_port" -A WITH_TLS \
    -A "TLS_CONFIG=\"$d/tls.cfg\"" -A WITH_IDENTITY -A "IDENTITY_CA=\"CertCAFile=$d/user-cas.pem\""
}

# cert_phone_args REALM NAI CERT KEY CHAIN: oag-phone options for NAI of REALM calling over TLS,
# presenting CERT (its KEY, its CHAIN) to the proxy and to its gateway (add --auth cert for a
# certificate-signed call).
cert_phone_args() {
  echo --nai "$2" --proxy "127.0.0.1:$tls_port" --transport tls --proxy-ca "$work/proxy/proxy.pem" \
    --ag "127.0.0.1:$(port_of "$1" endpoint)" --ca "$work/$1/endpoint-ca.pem" \
    --cert "$3" --key "$4" --chain "$5" --home-url "https://127.0.0.1:$(port_of "$1" visitor)"
}
