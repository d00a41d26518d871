# Shared by scripts/: a PostgreSQL server for the tests. Uses GONGWEN_TEST_DATABASE_URL when
# set, else a server on 127.0.0.1:5432 that lets user postgres in, else installs Debian's
# postgresql and starts a throwaway cluster (stopped when the script exits).
# Sets GONGWEN_PG_URL; fails loudly rather than letting the suite skip PostgreSQL.
ensure_postgres() {
  if [[ -n ${GONGWEN_TEST_DATABASE_URL-} ]]; then
    GONGWEN_PG_URL=$GONGWEN_TEST_DATABASE_URL
    return 0
  fi
  if command -v psql >/dev/null 2>&1 &&
    psql "postgres://postgres@127.0.0.1:5432/postgres" -qAtc 'select 1' >/dev/null 2>&1; then
    GONGWEN_PG_URL=postgres://postgres@127.0.0.1:5432/postgres
    return 0
  fi
  ensure_debian_packages /usr/share/postgresql-common/pg_wrapper:postgresql psql:postgresql-client
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local port=55432
  # One folder per script run, readable by its owner only.
  PG_TMP=${TMPDIR:-/tmp}/gongwen-pg-$$
  rm -rf "$PG_TMP"
  mkdir -m 700 "$PG_TMP"
  local as=()
  if [[ $(id -u) == 0 ]]; then
    chown postgres: "$PG_TMP"
    as=(runuser -u postgres --)
  fi
  echo "啟動測試用 PostgreSQL（$PG_TMP，埠 $port）" >&2
  "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
  trap 'stop_services' EXIT
  GONGWEN_PG_URL=postgres://postgres@127.0.0.1:$port/postgres
}

stop_postgres() {
  if [[ -n ${PG_TMP-} ]]; then
    local as=()
    [[ $(id -u) == 0 ]] && as=(runuser -u postgres --)
    "${as[@]}" "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" -D "$PG_TMP/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
