# Install (Debian packages) and start a private PostgreSQL cluster on 127.0.0.1:55432.
PGPORT=55432
PGROOT="${TMPDIR:-/tmp}/kuma-ci-pg"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  echo "$dir"
}

start_postgres() {
  if [ -z "$(pg_bin)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  local bin; bin=$(pg_bin)
  local as=""; [ "$(id -u)" = 0 ] && as="runuser -u postgres --"
  # a cluster left running by an earlier run on this machine: stop it before starting afresh
  [ -d "$PGROOT/data" ] && $as "$bin/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"; mkdir -p "$PGROOT"
  chown -R postgres "$PGROOT" 2>/dev/null || true
  $as "$bin/initdb" -D "$PGROOT/data" -U kuma --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  $as "$bin/pg_ctl" -D "$PGROOT/data" -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1" -l "$PGROOT/log" -w start >/dev/null
  $as "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U kuma kuma_test
  export KUMA_TEST_DATABASE_URL="postgresql+psycopg://kuma@127.0.0.1:$PGPORT/kuma_test"
  echo "PostgreSQL ready at $KUMA_TEST_DATABASE_URL"
}

stop_postgres() {
  local as=""; [ "$(id -u)" = 0 ] && as="runuser -u postgres --"
  $as "$(pg_bin)/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null 2>&1 || true
}
