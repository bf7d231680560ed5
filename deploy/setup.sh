#!/usr/bin/env bash
# Installs every Debian 12 package OAG needs (only what is missing: one apt-get update, one
# apt-get install) and builds the project into build/ (or $OAG_BUILD_DIR).
#   deploy/setup.sh              install + build
#   deploy/setup.sh --no-build   install only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build ccache pkg-config git
  libssl-dev openssl
  libboost-dev nlohmann-json3-dev libspdlog-dev libsqlite3-dev sqlite3 libcli11-dev
  catch2 libbenchmark-dev python3 curl procps kamailio clang libclang-rt-14-dev
  libpq-dev postgresql-15 libsystemd-dev prometheus systemd
  kamailio-tls-modules kamailio-secsipid-modules secsipidx
  python3-docutils python3-jsonschema
)
# kamailio-tls-modules: SIP over TLS with client certificates (DESIGN §8).
# kamailio-secsipid-modules: the proxy's own check of RFC 8224 Identity headers.
# secsipidx: the same Go library as a command, an independent PASSporT implementation that the
# unit tests check ours against (both ways).
# prometheus: its promtool checks what /metrics exposes (the server is not run).
# systemd: systemd-analyze, which checks the units (a container image may lack it).
# python3-docutils: rst2man, which builds the man pages (docs/man/*.rst).
# python3-jsonschema: checks every answer the integration tests receive against the OpenAPI
# document (docs/openapi.json), an implementation of JSON Schema that is not ours.
# libsystemd-dev: sd_notify, so that oagd runs as a Type=notify unit.
# libpq-dev: the postgresql store backend. postgresql-15: the server the tests start in a
# directory of their own (tests/pg/pg_server.sh); Debian's package also creates its own cluster,
# which nothing here uses.

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0

BUILD_DIR=${OAG_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOAG_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR"
