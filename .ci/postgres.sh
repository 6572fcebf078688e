# Start a throwaway PostgreSQL on loopback and export REGIOMATCH_TEST_POSTGRES_URL. Sourced by .ci/run.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PG_BIN" ]; then
    echo "no PostgreSQL server binaries found"; return 1
fi
PG_DIR=$(mktemp -d /tmp/regiomatch-pg.XXXXXX)
chown postgres "$PG_DIR" 2>/dev/null || true
PG_PORT=${PG_PORT:-54329}
run_pg() { if [ "$(id -u)" = "0" ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run_pg "$PG_BIN/initdb -D $PG_DIR/data -U postgres --auth=trust >/dev/null" || return 1
run_pg "$PG_BIN/pg_ctl -D $PG_DIR/data -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR' -l $PG_DIR/log -w start >/dev/null" || return 1
export REGIOMATCH_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL started on 127.0.0.1:$PG_PORT"
