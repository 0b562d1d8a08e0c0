#!/usr/bin/env bash
# Benchmark alert ingestion: flood Sevwatch's Alertmanager webhook (/api/v1/ingest/alertmanager)
# and PagerDuty Events v2 endpoint (/v2/enqueue) with 10,000 distinct fingerprints cycled (so most
# requests repeat a known alert), at 1 and 100 alerts per request, over 32 connections and 1, on
# SQLite and on PostgreSQL (a fresh schema); then a real Prometheus Alertmanager (API v2,
# /api/v2/alerts) under the same load, and print our/Alertmanager ratios. Every cell gets a
# fresh server, so each RSS figure is "after the cell, with 10,000 active alerts".
# Loopback only; about 16 cells of SECS seconds (default 10: under 4 minutes in all).
# Usage: bench/alerts.sh [seconds-per-cell]
#   PostgreSQL URL from SEVWATCH_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test;
#   skipped if unreachable). Installs prometheus-alertmanager with apt-get when missing (root).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
PG_URL=${SEVWATCH_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
AM=/usr/bin/prometheus-alertmanager
CELLS=("1 32" "1 1" "100 32" "100 1")   # alerts per request, connections

if [ ! -x "$AM" ]; then
  echo "installing prometheus-alertmanager"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null) \
    || echo "could not install prometheus-alertmanager: the comparison will be skipped"
fi

# BENCH_BIN_DIR: run binaries built earlier (a copy of target/release), without building; for
# interleaving runs of two builds, or measuring while the tree changes.
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  BIN=$BENCH_BIN_DIR/sevwatch
  LOAD=$BENCH_BIN_DIR/alertload
else
  cargo build --release -q -p sevwatch -p sevwatch-bench
  TARGET_DIR=${CARGO_TARGET_DIR:-target}
  BIN=$TARGET_DIR/release/sevwatch
  LOAD=$TARGET_DIR/release/alertload
fi
WORK=$(mktemp -d)
RESULTS=$WORK/results.tsv
: > "$RESULTS"
PIDS=()
SCHEMAS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for s in "${SCHEMAS[@]}"; do psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

N=0
start_sevwatch() { # start_sevwatch [--database-url URL]; sets URL, ADMIN, INGEST, SERVER_PID
  N=$((N + 1))
  local dir=$WORK/sw$N
  SEVWATCH_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$dir" "$@" 2> "$dir.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  URL=
  for _ in $(seq 1 100); do
    # The log may not exist yet: the shell opens it in the child after the fork.
    URL=$(sed -n 's/^sevwatch listening on \(http:[^ ]*\).*/\1/p' "$dir.log" 2>/dev/null || true)
    [ -n "$URL" ] && break
    sleep 0.1
  done
  [ -n "$URL" ] || { cat "$dir.log"; exit 1; }
  ADMIN=$(cat "$dir/admin.token")
  INGEST=$("$BIN" token create --role ingest --name am --server "$URL" --token "$ADMIN")
}

start_alertmanager() { # sets URL, SERVER_PID
  N=$((N + 1))
  local port
  port=$("$LOAD" --free-port)
  printf 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n' > "$WORK/am.yml"
  "$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/am$N" --cluster.listen-address= \
    --web.listen-address="127.0.0.1:$port" --log.level=warn 2> "$WORK/am$N.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  URL=http://127.0.0.1:$port
  "$LOAD" --wait "$URL/-/ready" || { cat "$WORK/am$N.log"; exit 1; }
}

sevwatch_cells() { # sevwatch_cells BACKEND [--database-url-prefix]; one fresh server per cell
  local backend=$1 source batch conns db=()
  for source in webhook pagerduty; do
    for cell in "${CELLS[@]}"; do
      read -r batch conns <<< "$cell"
      [ "$source" = pagerduty ] && [ "$batch" != 1 ] && continue   # Events v2: one event per request
      if [ "$backend" = postgres ]; then
        local schema="sw_bench_alerts_$$_$N"
        psql "$PG_URL" -qc "CREATE SCHEMA $schema" >/dev/null
        SCHEMAS+=("$schema")
        db=(--database-url "${PG_URL}?options[search_path]=${schema}")
      fi
      start_sevwatch "${db[@]}"
      "$LOAD" --target "$source" --url "$URL" --token "$INGEST" --read-token "$ADMIN" --batch "$batch" \
        --concurrency "$conns" --seconds "$SECS" --server-pid "$SERVER_PID" --label "$backend/$source" \
        --record "$RESULTS" --verify
      stop "$SERVER_PID"
    done
  done
}

# The floor under every durable cell: one commit = one fdatasync of the WAL. With 32 connections
# and one alert per request at most 32 alerts share a commit, so 32 / fsync time bounds that cell.
fsync_probe() {
  python3 - "$WORK" <<'PY' || echo "fsync probe: python3 missing"
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT)
lat = []
for _ in range(300):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter(); os.fdatasync(fd); lat.append((time.perf_counter() - t) * 1000)
lat.sort()
p50 = lat[len(lat) // 2]
print("disk: fdatasync p50 %.2f ms, p99 %.2f ms; durable ceiling at 1 alert/request x 32 connections ~ %d alerts/s"
      % (p50, lat[int(len(lat) * 0.99)], 32 / (p50 / 1000)))
PY
}
fsync_probe

echo "== alert ingestion, 10,000 fingerprints cycled, ${SECS}s per cell, fresh server per cell =="
sevwatch_cells sqlite
if command -v psql >/dev/null && psql "$PG_URL" -qc 'select 1' >/dev/null 2>&1; then
  sevwatch_cells postgres
else
  echo "postgres: skipped ($PG_URL unreachable)"
fi
if [ -x "$AM" ]; then
  "$AM" --version 2>&1 | head -1
  for cell in "${CELLS[@]}"; do
    read -r batch conns <<< "$cell"
    start_alertmanager
    "$LOAD" --target alertmanager --url "$URL" --batch "$batch" --concurrency "$conns" --seconds "$SECS" \
      --server-pid "$SERVER_PID" --label alertmanager --record "$RESULTS" --verify
    stop "$SERVER_PID"
  done
fi

echo
fsync_probe
echo
echo "== summary (ratio = ours / Alertmanager at the same alerts per request and connections) =="
awk -F'\t' '
  { key = $3 " " $4; rate[NR] = $6; row[NR] = $0 }
  $2 == "alertmanager" { am[key] = $6 }
  END {
    printf "| %-20s | %5s | %5s | %9s | %8s | %8s | %8s | %6s | %-12s |\n", "server/source", "batch", "conns", "alerts/s", "p50 ms", "p99 ms", "RSS MiB", "errors", "ours/AM"
    printf "|%s|\n", "----------------------|-------|-------|-----------|----------|----------|----------|--------|--------------"
    for (i = 1; i <= NR; i++) {
      split(row[i], f, "\t"); key = f[3] " " f[4]
      ratio = (f[2] != "alertmanager" && (key in am) && am[key] > 0) ? sprintf("%.2fx", f[6] / am[key]) : ""
      printf "| %-20s | %5s | %5s | %9s | %8s | %8s | %8s | %6s | %-12s |\n", f[1], f[3], f[4], f[6], f[7], f[8], f[10], f[9], ratio
    }
  }' "$RESULTS"

echo
echo "== targets (SQLite, Alertmanager webhook) =="
awk -F'\t' '
  $1 == "sqlite/webhook" && $3 == 1 && $4 == 32 {
    printf "1 alert/request, 32 conns: %s alerts/s (>= 20000: %s), p99 %s ms (<= 10: %s)\n", $6, ($6 >= 20000 ? "met" : "MISSED"), $8, ($8 <= 10 ? "met" : "MISSED")
    printf "RSS with 10,000 active alerts: %s MiB (<= 50: %s)\n", $10, ($10 <= 50 ? "met" : "MISSED")
  }
  $1 == "sqlite/webhook" && $3 == 100 && $4 == 32 {
    printf "100 alerts/request, 32 conns: %s alerts/s (>= 60000: %s)\n", $6, ($6 >= 60000 ? "met" : "MISSED")
  }' "$RESULTS"
