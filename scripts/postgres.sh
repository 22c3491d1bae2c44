#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 (own data folder, free port) and prints its URL.
# Usage: eval "$(scripts/postgres.sh start DIR)"; scripts/postgres.sh stop DIR
# max_connections: the PostgreSQL lane runs ~270 tests at once, each app with up to 4 connections per event loop
# plus its LISTEN connection; since admission is one statement (no group commit holding one connection) a burst
# opens them all, and the lane peaked at ~975 of the former 1,000.
set -euo pipefail
action=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
case "$action" in
  start)
    mkdir -p "$dir" && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=2000 -c shared_buffers=64MB -c fsync=off" start >/dev/null
    runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres atelier_test
    echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/atelier_test?sslmode=disable"
    ;;
  stop)
    [[ -d "$dir/data" ]] && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
esac
