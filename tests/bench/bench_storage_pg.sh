#!/usr/bin/env bash
# bench_storage with PostgreSQL beside SQLite in one run, on a PostgreSQL server of its own
# (tests/pg/pg_server.sh in a temporary directory, stopped and removed at the end).
#   tests/bench/bench_storage_pg.sh [SECONDS per case, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-3}
work=$(mktemp -d)
chmod 755 "$work"  # as root the server runs as `postgres`
trap 'tests/pg/pg_server.sh stop "$work/pg" || true; rm -rf "$work"' EXIT
tests/pg/pg_server.sh start "$work/pg"
psql -q "$(cat "$work/pg/conninfo")" -c "CREATE DATABASE oag_bench"
conninfo=$(sed 's/dbname=postgres/dbname=oag_bench/' "$work/pg/conninfo")
"${OAG_BUILD_DIR:-build}/tests/bench/bench_storage" "$seconds" "$conninfo"
