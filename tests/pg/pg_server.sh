#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data directory under DIR, a Unix socket in DIR,
# no TCP, trust authentication for that socket only. Never a system cluster.
#   pg_server.sh start DIR     initdb (first time), start, write DIR/conninfo
#   pg_server.sh stop DIR      stop (fast) and remove DIR
#   pg_server.sh restart DIR   stop and start again with the same data (for the outage test)
#   pg_server.sh down DIR      stop, keep the data;   pg_server.sh up DIR: start it again
# PostgreSQL refuses to run as root: as root it runs as the `postgres` user of Debian's package.
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "pg_server.sh: PostgreSQL server binaries not found (deploy/setup.sh installs them)" >&2; exit 1; }
port=5432  # the socket is DIR/.s.PGSQL.5432; with no TCP listener the number collides with nothing

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
user=$( [ "$(id -u)" = 0 ] && echo postgres || id -un )

ctl() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 "$@" >/dev/null
}

start() {
  if [ -f "$dir/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0  # already running (a run interrupted before its cleanup): use it
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U "$user" -A trust --no-instructions -E UTF8 \
      >"$dir/initdb.log"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
CONF
  fi
  ctl start
  echo "host=$dir port=$port user=$user dbname=postgres" >"$dir/conninfo"
}

stop() {
  [ -f "$dir/data/postmaster.pid" ] && ctl stop -m fast || true
}

case "$cmd" in
  start) start ;;
  stop) stop; rm -rf "$dir" ;;
  restart) stop; start ;;
  down) stop ;;
  up) start ;;
  *) echo "usage: $0 start|stop|restart|down|up DIR" >&2; exit 2 ;;
esac
