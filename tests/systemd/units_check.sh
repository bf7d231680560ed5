#!/usr/bin/env bash
# The systemd units (deploy/systemd/) as systemd reads them: `systemd-analyze verify` (syntax,
# directives, the commands they run: here the build's oagd stands in for /usr/sbin/oagd, and the
# man pages are not looked up until the packages install them), and `systemd-analyze security
# --offline` with an overall exposure of at most 2.5 for each.
#   tests/systemd/units_check.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=$(realpath "${1:-build}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for unit in oagd.service oagd@.service; do
  out=$(systemd-analyze security --offline=true "deploy/systemd/$unit" 2>&1 | tail -1)
  exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
  [ -n "$exposure" ] || { echo "units: no exposure for $unit: $out" >&2; exit 1; }
  awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' ||
    { systemd-analyze security --offline=true "deploy/systemd/$unit" >&2; echo "units: $unit exposure $exposure > 2.5" >&2; exit 1; }
  echo "units: $unit exposure $exposure"
  sed "s|/usr/sbin/oagd|$BUILD/gateway/oagd|g" "deploy/systemd/$unit" > "$work/${unit/@./@a.}"
done
# verify exits 0 on what it merely warns about (an unknown key is ignored): any output fails.
complaints=$(systemd-analyze verify --man=no "$work/oagd.service" "$work/oagd@a.service" 2>&1) ||
  { echo "$complaints" >&2; exit 1; }
[ -z "$complaints" ] || { echo "$complaints" >&2; echo "units: systemd-analyze verify complained" >&2; exit 1; }
echo "units: systemd-analyze verify passed"
