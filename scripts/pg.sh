#!/usr/bin/env bash
# Throwaway PostgreSQL 15 on loopback for tests and benchmarks.
#   scripts/pg.sh ensure          install PostgreSQL 15 with apt if it is absent
#   scripts/pg.sh start DIR PORT  initdb in DIR and start on 127.0.0.1:PORT
#   scripts/pg.sh restart DIR     restart the server of DIR (crash-safety tests)
#   scripts/pg.sh stop DIR        stop the server of DIR and remove DIR
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  ensure)
    if [ ! -x "$PGBIN/initdb" ]; then
      echo "installing PostgreSQL 15 with apt ..." >&2
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql-15 >/dev/null
    fi
    ;;
  start)
    dir=$2 port=$3
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_pg "$PGBIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir/log" -w \
      -o "-h 127.0.0.1 -p $port -k /tmp -c fsync=off -c synchronous_commit=off -c max_connections=200" \
      start >/dev/null
    ;;
  restart)
    as_pg "$PGBIN/pg_ctl" -D "$2" -m fast -w restart >/dev/null
    ;;
  stop)
    dir=$2
    as_pg "$PGBIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 ensure | start DIR PORT | restart DIR | stop DIR" >&2; exit 2 ;;
esac
