#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data directory under DIR, a Unix socket in DIR,
# no TCP, trust authentication for that socket only. Never a system cluster.
#   pg_server.sh start DIR     initdb (first time), start, write DIR/conninfo
#   pg_server.sh start-tls DIR the same, plus TCP on 127.0.0.1 that accepts TLS only, with a
#                              certificate made here (DIR/server.crt, IP SAN 127.0.0.1); its
#                              conninfo asks for sslmode=verify-full against that certificate
#   pg_server.sh stop DIR      stop (fast) and remove DIR
#   pg_server.sh down DIR      stop, keep the data;   pg_server.sh up DIR: start it again (for
#                              the outage test)
# PostgreSQL refuses to run as root: as root it runs as the `postgres` user of Debian's package,
# and when that user cannot reach DIR (a checkout under /root) the server's own files go to
# /tmp/oag-pg-<hash of DIR>/pg instead; DIR still gets the conninfo.
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
srv=$dir
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$dir"
  if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
    srv=/tmp/oag-pg-$(printf '%s' "$dir" | sha256sum | cut -c1-12)/pg
  fi
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "pg_server.sh: PostgreSQL server binaries not found (deploy/setup.sh installs them)" >&2; exit 1; }
port=5432  # the socket is SRV/.s.PGSQL.5432; with no TCP listener the number collides with nothing

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
user=$( [ "$(id -u)" = 0 ] && echo postgres || id -un )

ctl() {
  as_owner "$bin/pg_ctl" -D "$srv/data" -l "$srv/server.log" -w -t 60 "$@" >/dev/null
}

tls=0
start() {
  if [ -f "$srv/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$srv/data" status >/dev/null 2>&1; then
    return 0  # already running (a run interrupted before its cleanup): use it
  fi
  if [ ! -f "$srv/data/PG_VERSION" ]; then
    rm -rf "$dir" "$srv"
    mkdir -p "$dir" "$srv"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$srv"
      [ "$srv" = "$dir" ] || chmod 755 "$(dirname "$srv")"
    fi
    as_owner "$bin/initdb" -D "$srv/data" -U "$user" -A trust --no-instructions -E UTF8 \
      >"$srv/initdb.log"
    cat >>"$srv/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$srv'
port = $port
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
CONF
    if [ "$tls" = 1 ]; then
      tcp_port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$srv/data/server.key" -out "$srv/data/server.crt" \
        2>/dev/null
      cp "$srv/data/server.crt" "$dir/server.crt"
      [ "$(id -u)" = 0 ] && chown postgres: "$srv/data/server.key" "$srv/data/server.crt"
      chmod 600 "$srv/data/server.key"
      cat >>"$srv/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $tcp_port
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
      { echo "hostssl all all 127.0.0.1/32 trust"; echo "host all all 127.0.0.1/32 reject";
        cat "$srv/data/pg_hba.conf"; } > "$srv/hba" && cat "$srv/hba" > "$srv/data/pg_hba.conf"
      echo "$tcp_port" > "$srv/tcp_port"
    fi
  fi
  ctl start
  if [ -f "$srv/tcp_port" ]; then
    echo "host=127.0.0.1 port=$(cat "$srv/tcp_port") user=$user dbname=postgres sslmode=verify-full sslrootcert=$dir/server.crt" >"$dir/conninfo"
  else
    echo "host=$srv port=$port user=$user dbname=postgres" >"$dir/conninfo"
  fi
}

stop() {
  [ -f "$srv/data/postmaster.pid" ] && ctl stop -m fast || true
}

case "$cmd" in
  start) start ;;
  start-tls) tls=1; start ;;
  stop) stop; rm -rf "$dir" "$srv"; [ "$srv" = "$dir" ] || rmdir "$(dirname "$srv")" 2>/dev/null || true ;;
  down) stop ;;
  up) start ;;
  *) echo "usage: $0 start|start-tls|stop|down|up DIR" >&2; exit 2 ;;
esac
