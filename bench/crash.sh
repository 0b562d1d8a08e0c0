#!/usr/bin/env bash
# kill -9 cycles under mixed load: does every write answered 2xx survive a crash?
#
# Each cycle starts `sevwatch serve` on the same data (SQLite in a data directory, or a
# PostgreSQL database made for this run), drives alerts, incident commands, unacknowledged
# P0/P1 escalations and outbox deliveries from several clients for a random 0.2-2 s, SIGKILLs
# the server mid-load, restarts it and checks every acknowledged write, the hash chains, that
# no escalation step paged twice and that every timer due before the kill fired after it.
# The load and the checks are in bench/crash.py, crash_load.py and crash_check.py (Python 3 standard library only).
#
# Usage: bench/crash.sh [--cycles N] [--sqlite-cycles N] [--pg-cycles N] [--only sqlite|postgres]
#                       [--seed S] [--keep]
#   defaults: 100 cycles on SQLite, 20 on PostgreSQL (skipped when unreachable)
#   PostgreSQL from SEVWATCH_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test): a
#   fresh database is created beside it for the run and dropped afterwards.
#   The binary is target/release/sevwatch (built when missing; SEVWATCH_BIN to use another),
#   copied into the work directory so a rebuild during the run cannot change it.
#   --keep keeps the work directory (data, config, every server log); it is also kept when a
#   run finds a problem. Exit status: 0 nothing lost; 1 a lost or changed write, a chain that
#   failed verification, a bad delivery, a server that would not restart, or a failed setup;
#   2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

SQLITE_CYCLES=100
PG_CYCLES=20
ONLY=
SEED=
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --cycles) SQLITE_CYCLES=$2; PG_CYCLES=$2; shift 2 ;;
    --sqlite-cycles) SQLITE_CYCLES=$2; shift 2 ;;
    --pg-cycles) PG_CYCLES=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

PG_URL=${SEVWATCH_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
BIN=${SEVWATCH_BIN:-target/release/sevwatch}
if [ ! -x "$BIN" ]; then
  echo "building $BIN"
  cargo build --release -q -p sevwatch
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sevwatch-crash.XXXXXX")
DRIVER_PID=
DB=
FAILED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    wait "$DRIVER_PID" 2>/dev/null || true
  fi
  # The driver stops its server itself; this is for a driver that was killed outright.
  for f in "$WORK"/*/server.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sevwatch ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  if [ -n "$DB" ]; then
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || echo "could not drop database $DB" >&2
  fi
  if [ "$KEEP" = 1 ] || [ "$FAILED" != 0 ] || [ "$rc" != 0 ]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cp "$BIN" "$WORK/sevwatch"
echo "binary: $BIN (sha256 $(sha256sum "$BIN" | cut -c1-12), built $(date -r "$BIN" '+%F %T')); checkout now at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo ', with uncommitted changes under crates/')"
echo "machine: $(nproc) cores; work: $WORK"

run() { # run LABEL CYCLES [--database-url URL]
  local label=$1 cycles=$2; shift 2
  local dir=$WORK/$label
  mkdir -p "$dir"
  python3 bench/crash.py --bin "$WORK/sevwatch" --work "$dir" --label "$label" --cycles "$cycles" \
    --summary "$WORK/$label.json" ${SEED:+--seed "$SEED"} "$@" &
  DRIVER_PID=$!
  local rc=0
  wait "$DRIVER_PID" || rc=$?
  DRIVER_PID=
  if [ "$rc" != 0 ]; then FAILED=1; fi
}

if [ "$ONLY" != postgres ]; then
  run sqlite "$SQLITE_CYCLES"
fi
if [ "$ONLY" != sqlite ]; then
  if command -v psql >/dev/null && psql "$PG_URL" -qc 'select 1' >/dev/null 2>&1; then
    DB="sw_crash_$$_$(date +%s)"
    psql "$PG_URL" -qc "CREATE DATABASE $DB" >/dev/null
    run postgres "$PG_CYCLES" --database-url "${PG_URL%/*}/$DB"
  else
    echo "postgres: skipped ($PG_URL unreachable)"
  fi
fi

echo
echo "== summary =="
python3 - "$WORK" <<'PY'
import glob, json, os, sys
rows = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/*.json"), key=os.path.getmtime)]
inside = ("alert notification", "incident opened by alert")  # counted inside the requests
print("| backend | cycles | 2xx requests | by kind | in doubt | lost | escalation steps fired by timers (of them after a restart; paged twice; timers lost) | chain verification failures | wall time |")
print("|---|---|---|---|---|---|---|---|---|")
for s in rows:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(s["acked"].items()))
    n = sum(v for k, v in s["acked"].items() if k not in inside)
    doubt = sum(v for k, v in s["in_doubt"].items() if k not in inside)
    print(f"| {s['backend']} | {s['cycles']} | {n} | {kinds} | {doubt} "
          f"| {s['lost_total']} | {s['escalation_steps_fired']} ({s['steps_fired_after_restart']}; {s['duplicate_pages']}; "
          f"{s['timers_lost']}) "
          f"| {s['verify_failures']} of {s['verify_runs']} | {s['wall_s']} s |")
PY
if [ "$FAILED" != 0 ]; then
  echo "FAILED: see the figures above"
  exit 1
fi
