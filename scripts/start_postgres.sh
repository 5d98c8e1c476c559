#!/usr/bin/env bash
# Start a throw-away PostgreSQL server in folder $1 on a free loopback port; export its URL as
# NARRATIVES_TEST_PG_URL. Meant to be sourced. Runs the server as the 'postgres' user when root.
pg_data="$1"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || return 1 2>/dev/null || exit 1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$pg_data"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data/data" --auth=trust -U postgres -E UTF8 >/dev/null || return 1
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data/data" -l "$pg_data/log" -w \
  -o "-p $port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || return 1
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres narratives_test || return 1
export NARRATIVES_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/narratives_test"
echo "PostgreSQL running for the tests at 127.0.0.1:$port"
