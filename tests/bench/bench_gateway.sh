#!/usr/bin/env bash
# oagd against nginx on the same machine, in one run and alternating: nginx serves a static
# 300-byte JSON over TLS 1.3 with the same P-256 certificate and the same client-certificate
# check; oagd issues durable vectors (synchronous=FULL). Each server is pinned to CPU 0, the
# load generator to CPU 1.
#   tests/bench/bench_gateway.sh [SECONDS per run, default 10] [CONNECTIONS, default 64]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNS=${2:-64}
BUILD=${OAG_BUILD_DIR:-build}

if ! command -v nginx >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/oag-bench-gw-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

ctl="$BUILD/tools/oagctl/oagctl"
$ctl init --realm op-a.example --dir "$work/op" >/dev/null
$ctl --config "$work/op/oagd.json" subscriber add --nai alice@op-a.example --imsi 001010000000001 \
  --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 >/dev/null
$ctl --config "$work/op/oagd.json" endpoint issue-cert --nai alice@op-a.example --out-dir "$work/op" >/dev/null
python3 - "$work/op/oagd.json" "$work/oagd.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listeners"] = {"endpoint": {"address": "127.0.0.1", "port": 0}, "ops": {"port": 0},
                  "federation": {"address": "127.0.0.1", "port": 0},
                  "visitor": {"address": "127.0.0.1", "port": 0}}
c["logging"] = {"level": "warn"}
json.dump(c, open(sys.argv[2], "w"))
PY

# nginx: one worker on CPU 0, TLS 1.3, the same certificate, client certificates required.
mkdir -p "$work/www" "$work/nginx"
chmod 755 "$work" "$work/www"  # nginx's workers run as nobody
python3 -c "import json; print(json.dumps({'subject':'alice@op-a.example','issuer':'op-a.example','vectors':[{'id':'0'*36,'kind':'aka','rand':'0'*32,'autn':'0'*32,'xres':'0'*16,'ck':'0'*32,'ik':'0'*32}]})[:299])" > "$work/www/v.json"
NGINX_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 01;
daemon off;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate $work/op/server.pem;
    ssl_certificate_key $work/op/server.key;
    ssl_client_certificate $work/op/endpoint-ca.pem;
    ssl_verify_client on;
    default_type application/json;
    location / { root $work/www; }
  }
}
CONF
taskset -c 0 "$NGINX" -c "$work/nginx/nginx.conf" &
pids+=($!)

taskset -c 0 "$BUILD/gateway/oagd" --config "$work/oagd.json" > "$work/oagd.out" 2> "$work/oagd.err" &
OAGD_PID=$!
pids+=($OAGD_PID)
for _ in $(seq 100); do grep -q "listening endpoint" "$work/oagd.out" 2>/dev/null && break; sleep 0.05; done
OAGD_PORT=$(awk '/listening endpoint/ {print $4}' "$work/oagd.out")
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$NGINX_PORT) 2>/dev/null && break; sleep 0.05; done

bench() {
  taskset -c 1 "$BUILD/tools/oag-bench/oag-bench" --json --port "$1" --ca "$work/op/endpoint-ca.pem" \
    --cert "$work/op/alice@op-a.example.pem" --key "$work/op/alice@op-a.example.key" \
    --connections "$CONNS" --seconds "$SECONDS_PER_RUN" "${@:2}"
}

echo "oag-bench: $CONNS connections, $SECONDS_PER_RUN s per run, servers on CPU 0, load on CPU 1"
declare -A result
for round in 1 2; do
  result[nginx$round]=$(bench "$NGINX_PORT" --method GET --path /v.json)
  result[aka1_$round]=$(bench "$OAGD_PORT" --kind aka --count 1)
done
result[sim1]=$(bench "$OAGD_PORT" --kind sim --count 1)
result[aka5]=$(bench "$OAGD_PORT" --kind aka --count 5)
result[sim5]=$(bench "$OAGD_PORT" --kind sim --count 5)
rss=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$OAGD_PID/status)

python3 - "$rss" <<PY
import json, sys
r = {k: json.loads(v) for k, v in {
  "nginx static (round 1)": '''${result[nginx1]}''', "oagd aka x1 (round 1)": '''${result[aka1_1]}''',
  "nginx static (round 2)": '''${result[nginx2]}''', "oagd aka x1 (round 2)": '''${result[aka1_2]}''',
  "oagd sim x1": '''${result[sim1]}''', "oagd aka x5": '''${result[aka5]}''', "oagd sim x5": '''${result[sim5]}'''}.items()}
print(f"{'run':26} {'req/s':>8} {'vectors/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
for k, v in r.items():
    print(f"{k:26} {v['requests_per_s']:8.0f} {v['vectors_per_s']:10.0f} {v['p50_ms']:8.3f} {v['p90_ms']:8.3f} "
          f"{v['p99_ms']:8.3f} {v['max_ms']:8.3f} {v['errors'] + v['non_200']:7d}")
ng = (r["nginx static (round 1)"]["requests_per_s"] + r["nginx static (round 2)"]["requests_per_s"]) / 2
og = (r["oagd aka x1 (round 1)"]["requests_per_s"] + r["oagd aka x1 (round 2)"]["requests_per_s"]) / 2
ngp = max(r["nginx static (round 1)"]["p99_ms"], r["nginx static (round 2)"]["p99_ms"])
ogp = max(r["oagd aka x1 (round 1)"]["p99_ms"], r["oagd aka x1 (round 2)"]["p99_ms"])
print(f"ratio oagd aka x1 / nginx static: {og / ng:.2f} (rate), p99 {ogp / ngp:.1f}x")
print(f"oagd peak RSS under load: {sys.argv[1]}")
import os
if os.environ.get("OAG_BENCH_SUMMARY"):  # tests/bench/summary.sh collects the figures
    with open(os.environ["OAG_BENCH_SUMMARY"], "a") as f:
        f.write(json.dumps({"bench": "gateway", "connections": $CONNS, "nginx_rps": ng, "oagd_rps": og,
                            "nginx_p99_ms": ngp, "oagd_p99_ms": ogp,
                            "rss_kib": int(sys.argv[1].split()[0])}) + "\n")
bad = [k for k, v in r.items() if v["errors"] + v["non_200"]]
if bad:
    sys.exit("runs with errors or non-200 answers: " + ", ".join(bad))
PY
