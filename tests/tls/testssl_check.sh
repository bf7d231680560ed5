#!/usr/bin/env bash
# The TLS each listener offers, audited by an independent tool: testssl.sh (Debian) runs its
# protocol, cipher-category and vulnerability checks against the endpoint, federation and visitor
# listeners of a real oagd, and this fails on any finding rated MEDIUM or worse. (Certificate
# findings are not asked for: they follow from the operator's private PKI, see the README.)
#   tests/tls/testssl_check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${OAG_BUILD_DIR:-build}
if ! command -v testssl >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends testssl.sh >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends testssl.sh >/dev/null; }
fi
work=$(mktemp -d /tmp/oag-testssl-XXXXXX)
# shellcheck source=deploy/lib.sh
. deploy/lib.sh
trap 'stop_all; rm -rf "$work"' EXIT
start_operator op-a.example alice 001010000000001
status=0
for listener in endpoint federation visitor; do
  port=$(port_of op-a.example "$listener")
  testssl --quiet --color 0 --warnings off --protocols --std --vulnerable \
    --jsonfile "$work/$listener.json" "127.0.0.1:$port" > "$work/$listener.txt" 2>&1 || true
  python3 - "$work/$listener.json" "$listener" <<'PY' || status=1
import json, sys
findings = json.load(open(sys.argv[1]))
bad = [f for f in findings if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
offered = [f["id"] for f in findings if f["id"].startswith(("TLS1", "SSL")) and
           f["finding"].startswith("offered")]
print(f"testssl {sys.argv[2]}: {len(findings)} checks, protocols offered: {', '.join(offered)}; "
      f"MEDIUM or worse: {len(bad)}")
for f in bad:
    print(f"  {f['severity']} {f['id']}: {f['finding']}")
if not any(f["id"] == "TLS1_3" and f["finding"].startswith("offered") for f in findings):
    print("  TLS 1.3 is not offered"); bad.append(1)
sys.exit(1 if bad else 0)
PY
done
exit $status
