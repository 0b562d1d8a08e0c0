#!/usr/bin/env bash
# Benchmark durable incident commands (declare/ack/note/resolve) over HTTP at concurrency 16,
# on SQLite and on PostgreSQL. Loopback only, bounded in time (about 30 s of load).
# Usage: bench/run.sh [seconds-per-run]   (PostgreSQL URL from SEVWATCH_BENCH_PG_URL,
#        default postgres://postgres@127.0.0.1:5432/test; skipped if unreachable)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
PG_URL=${SEVWATCH_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
# BENCH_BIN_DIR: run binaries built earlier (see bench/alerts.sh), without building.
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  BIN=$BENCH_BIN_DIR/sevwatch
  LOAD=$BENCH_BIN_DIR/cmdload
else
  cargo build --release -q -p sevwatch -p sevwatch-bench
  BIN=target/release/sevwatch
  LOAD=target/release/cmdload
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # start NAME [--database-url URL]; sets URL and TOKEN
  local name=$1; shift
  SEVWATCH_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/$name" "$@" 2> "$WORK/$name.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    URL=$(sed -n 's/^sevwatch listening on \(http:[^ ]*\).*/\1/p' "$WORK/$name.log" 2>/dev/null || true)
    [ -n "$URL" ] && break
    sleep 0.1
  done
  [ -n "$URL" ] || { cat "$WORK/$name.log"; exit 1; }
  TOKEN=$(cat "$WORK/$name/admin.token")
  SERVER_PID=${PIDS[-1]}
}

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }

echo "== durable commands over HTTP (declare, ack, note, resolve), ${SECS}s per run =="
start sqlite
"$LOAD" --url "$URL" --token "$TOKEN" --concurrency 16 --seconds "$SECS" --label sqlite
echo "           server RSS after run: $(rss "$SERVER_PID")"
"$LOAD" --url "$URL" --token "$TOKEN" --concurrency 1 --seconds "$SECS" --label sqlite

if command -v psql >/dev/null && psql "$PG_URL" -qc 'select 1' >/dev/null 2>&1; then
  SCHEMA="sw_bench_$$"
  psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA"
  start postgres --database-url "${PG_URL}?options[search_path]=${SCHEMA}"
  "$LOAD" --url "$URL" --token "$TOKEN" --concurrency 16 --seconds "$SECS" --label postgres
  echo "           server RSS after run: $(rss "$SERVER_PID")"
  "$LOAD" --url "$URL" --token "$TOKEN" --concurrency 1 --seconds "$SECS" --label postgres
  kill "$SERVER_PID" 2>/dev/null || true
  psql "$PG_URL" -qc "DROP SCHEMA $SCHEMA CASCADE"
else
  echo "postgres: skipped ($PG_URL unreachable)"
fi
