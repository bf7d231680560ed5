#!/usr/bin/env bash
# The operator's path with the Debian packages, on this machine: install the three packages
# with apt, create an operator with `oagctl init --user _oag`, start the installed oagd as _oag,
# get a vector with curl over mutual TLS, stop it, purge the packages. The machine is left as it
# was found: no package, no /etc/oag, no /var/lib/oag, no _oag account (the packages keep the
# account on purge, as Debian's policy asks; this test removes it because it created it).
#   package_test.sh DEB_DIR     (needs root: it installs packages)
set -euo pipefail
debs=$(realpath "$1")
src=$(realpath "$(dirname "$0")/../..")
fail() { echo "package_test: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (apt-get install, a system user)"
# Never on a machine that runs OAG: purging would delete its operator.
for p in oagd oag-tools liboag-client-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    fail "$p is installed here; refusing to install over it and purge it"
  fi
done
[ ! -e /etc/oag ] && [ ! -e /var/lib/oag ] || fail "/etc/oag or /var/lib/oag exists; refusing"
had_user=0
getent passwd _oag >/dev/null && had_user=1

work=$(mktemp -d /tmp/oag-pkgtest-XXXXXX)
chmod 0755 "$work"
daemon=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq oagd oag-tools liboag-client-dev \
    >/dev/null 2>&1 || true
  if [ "$had_user" = 0 ] && getent passwd _oag >/dev/null; then
    pkill -KILL -u _oag 2>/dev/null || true
    deluser --system --quiet _oag >/dev/null 2>&1 || true
    getent group _oag >/dev/null && delgroup --system --quiet _oag >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. apt installs the local packages (and their dependencies from Debian).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  "$debs"/oagd_*.deb "$debs"/oag-tools_*.deb "$debs"/liboag-client-dev_*.deb >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install failed"; }
getent passwd _oag >/dev/null || fail "the oagd package made no _oag account"
[ "$(stat -c %U:%G:%a /etc/oag)" = root:_oag:750 ] || fail "/etc/oag: $(stat -c %U:%G:%a /etc/oag)"
[ "$(stat -c %U:%G:%a /var/lib/oag)" = _oag:_oag:750 ] ||
  fail "/var/lib/oag: $(stat -c %U:%G:%a /var/lib/oag)"
for page in man8/oagd.8 man5/oagd.json.5 man8/oagctl.8 man1/oag-phone.1 man1/oag-bench.1; do
  [ -f "/usr/share/man/$page.gz" ] || fail "no man page /usr/share/man/$page.gz"
done
man -w oagd.json >/dev/null || fail "man does not find oagd.json(5)"
# liboag-client-dev as an endpoint project sees it: find_package(oag-client) from /usr.
cmake -S "$src/client/example" -B "$work/example" -G Ninja >"$work/example.log" 2>&1 &&
  cmake --build "$work/example" >>"$work/example.log" 2>&1 ||
  { cat "$work/example.log" >&2; fail "client/example against liboag-client-dev"; }
rc=0
"$work/example/oag-client-example" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "oag-client-example built against the package: exit $rc, not 2 (usage)"
# The installed units, their programs and their man pages (Documentation=) resolve.
systemd-analyze verify --man=yes /lib/systemd/system/oagd.service >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log" >&2; fail "systemd-analyze verify oagd.service"; }
oagd --version | grep -q "^oagd " || fail "oagd --version"

# 2. An operator, as the README tells it: the packaged layout, files given to _oag.
oagctl init --realm op-pkg.example --user _oag >"$work/init.log" ||
  { cat "$work/init.log" >&2; fail "oagctl init --user _oag"; }
mode() { stat -c %U:%G:%a "$1"; }
[ "$(mode /etc/oag/endpoint-ca.key)" = root:root:600 ] ||
  fail "endpoint-ca.key is $(mode /etc/oag/endpoint-ca.key), not root's alone"
[ "$(mode /etc/oag/federation-ca.key)" = root:root:600 ] || fail "federation-ca.key"
[ "$(mode /etc/oag/server.key)" = root:_oag:640 ] || fail "server.key: $(mode /etc/oag/server.key)"
[ "$(mode /etc/oag/master.key)" = _oag:_oag:600 ] || fail "master.key: $(mode /etc/oag/master.key)"
[ "$(mode /var/lib/oag/oag.db)" = _oag:_oag:600 ] || fail "oag.db: $(mode /var/lib/oag/oag.db)"
as_oag() { setpriv --reuid=_oag --regid=_oag --init-groups --no-new-privs -- "$@"; }
as_oag cat /etc/oag/endpoint-ca.key >/dev/null 2>&1 && fail "_oag can read the root CA key"
as_oag oagd --config /etc/oag/oagd.json --check-config >/dev/null ||
  fail "oagd --check-config as _oag"

# A subscriber (K and OP from a 0600 file, never argv) and its endpoint certificate. Every
# listener on a free loopback port: the daemon prints the ones it bound.
k=$(openssl rand -hex 16) op=$(openssl rand -hex 16)
(umask 077 && printf 'nai,imsi,k,op\nalice@op-pkg.example,001010000000001,%s,%s\n' "$k" "$op" \
  >"$work/subscribers.csv")
oagctl --config /etc/oag/oagd.json subscriber import "$work/subscribers.csv" >/dev/null
oagctl --config /etc/oag/oagd.json endpoint issue-cert --nai alice@op-pkg.example \
  --out-dir "$work" >/dev/null
/usr/bin/python3 - <<'PY'
import json
p = "/etc/oag/oagd.json"
c = json.load(open(p))
c["listeners"] = {n: {"address": "127.0.0.1", "port": 0}
                  for n in ("endpoint", "federation", "visitor", "ops")}
json.dump(c, open(p, "w"), indent=2)
PY

# 3. The installed daemon as _oag.
setpriv --reuid=_oag --regid=_oag --init-groups --no-new-privs -- \
  /usr/sbin/oagd --config /etc/oag/oagd.json >"$work/oagd.out" 2>"$work/oagd.log" &
daemon=$!
for _ in $(seq 200); do grep -q "^listening ops" "$work/oagd.out" && break; sleep 0.05; done
grep -q "^listening endpoint" "$work/oagd.out" || { cat "$work/oagd.log" >&2; fail "oagd did not start"; }
[ "$(ps -o user= -p "$daemon")" = _oag ] || fail "oagd runs as $(ps -o user= -p "$daemon")"
port=$(awk '$1 == "listening" && $2 == "endpoint" {print $4}' "$work/oagd.out")
reply=$(curl -sS --fail-with-body --cacert /etc/oag/endpoint-ca.pem \
  --cert "$work/alice@op-pkg.example.pem" --key "$work/alice@op-pkg.example.key" \
  -H 'Content-Type: application/json' -d '{"nai":"alice@op-pkg.example","kind":"aka","count":1}' \
  "https://127.0.0.1:$port/v1/vectors") || fail "curl: $reply"
# One AKA vector, and its billing record in the installed daemon's database.
/usr/bin/python3 - "$reply" <<'PY' || fail "the vector: $reply"
import json, sys
v = json.loads(sys.argv[1])["vectors"]
assert len(v) == 1 and v[0]["kind"] == "aka", v
for f in ("rand", "autn", "xres", "ck", "ik"):
    assert len(v[0][f]) >= 16, f
PY
rand=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["vectors"][0]["rand"])' "$reply")
oagctl --config /etc/oag/oagd.json billing export --format jsonl >"$work/billing.jsonl"
rand_sha=$(/usr/bin/python3 -c 'import hashlib,sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1])).hexdigest())' "$rand")
grep -q "$rand_sha" "$work/billing.jsonl" || fail "no billing record for the vector (rand $rand)"
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
daemon=""
[ "$rc" = 0 ] || { cat "$work/oagd.log" >&2; fail "oagd exited $rc after SIGTERM"; }

# 4. Purge: packages, /etc/oag and /var/lib/oag gone.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq oagd oag-tools liboag-client-dev >/dev/null 2>&1
for p in oagd oag-tools liboag-client-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed" && fail "$p still installed"
done
[ ! -e /etc/oag ] && [ ! -e /var/lib/oag ] || fail "purge left /etc/oag or /var/lib/oag"
echo "packages installed, operator created as _oag, vector issued by the installed oagd (port $port), purged"
