#!/usr/bin/env bash
pg_data="$1"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ "$(id -u)" -eq 0 ]; then
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_data/data" -m fast stop >/dev/null 2>&1
else
  "$pg_bin/pg_ctl" -D "$pg_data/data" -m fast stop >/dev/null 2>&1
fi
rm -rf "$pg_data"
