# Shared by scripts/: a throwaway ClamAV daemon for the tests, with one signature (the EICAR
# test string) and nothing downloaded. Sets GONGWEN_TEST_CLAMD to its socket.
ensure_clamd() {
  if [[ -n ${GONGWEN_TEST_CLAMD-} && -S ${GONGWEN_TEST_CLAMD} ]]; then
    return 0
  fi
  ensure_debian_packages /usr/sbin/clamd:clamav-daemon
  CLAMD_TMP=${TMPDIR:-/tmp}/gongwen-clamd-$$
  rm -rf "$CLAMD_TMP"
  mkdir -p "$CLAMD_TMP/db"
  # EICAR, written as hex so no scanner flags this script.
  echo "Eicar-Test-Signature:0:*:58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a" \
    >"$CLAMD_TMP/db/gongwen-test.ndb"
  {
    echo "Foreground yes"
    echo "DatabaseDirectory $CLAMD_TMP/db"
    echo "LocalSocket $CLAMD_TMP/clamd.sock"
    echo "TemporaryDirectory $CLAMD_TMP"
    echo "LogFile $CLAMD_TMP/clamd.log"
    echo "StreamMaxLength 300M"
    [[ $(id -u) == 0 ]] && echo "User root"
  } >"$CLAMD_TMP/clamd.conf"
  echo "啟動測試用 clamd（$CLAMD_TMP）" >&2
  /usr/sbin/clamd --config-file="$CLAMD_TMP/clamd.conf" >"$CLAMD_TMP/out" 2>&1 &
  CLAMD_PID=$!
  trap 'stop_services' EXIT
  for _ in $(seq 1 120); do
    [[ -S $CLAMD_TMP/clamd.sock ]] && break
    sleep 0.5
  done
  if [[ ! -S $CLAMD_TMP/clamd.sock ]]; then
    cat "$CLAMD_TMP/out" >&2
    echo "clamd 沒有啟動" >&2
    return 1
  fi
  export GONGWEN_TEST_CLAMD=$CLAMD_TMP/clamd.sock
}

stop_clamd() {
  if [[ -n ${CLAMD_PID-} ]]; then
    kill "$CLAMD_PID" 2>/dev/null || true
    wait "$CLAMD_PID" 2>/dev/null || true
    rm -rf "$CLAMD_TMP"
  fi
}

stop_services() {
  stop_clamd
  stop_postgres
}
