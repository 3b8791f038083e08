#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server, exporting TEST_DATABASE_URL.
# The cluster lives in a temp dir, listens on 127.0.0.1 and a free port, runs
# without fsync, and is stopped and deleted on exit. Without a PostgreSQL
# installation the command runs anyway (the PostgreSQL tests then skip).
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PGBIN" ] || [ -n "${TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi
PGDATA=$(mktemp -d /tmp/tenglong-pg.XXXXXX)
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDATA"; as_pg=(runuser -u postgres --); fi
cleanup() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
trap cleanup EXIT
"${as_pg[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PGPORT -k $PGDATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres tenglong_test
export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/tenglong_test"
echo "with-postgres: PostgreSQL on 127.0.0.1:$PGPORT (throwaway)"
set +e
"$@"
rc=$?
exit $rc
