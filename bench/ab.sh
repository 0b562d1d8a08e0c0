#!/usr/bin/env bash
# Interleaved A/B of two builds on single alert-ingestion cells (the cells of bench/alerts.sh):
# for each round, each build, each cell, a fresh server and the same alertload run. Use it to
# compare a change with the build before it on a noisy machine (median of the rounds).
# Usage: bench/ab.sh DIR_A DIR_B [rounds] [seconds]
#   DIR_A/DIR_B hold sevwatch and alertload (copies of target/release from two builds).
#   Cells: "source batch conns backend" lines from $CELLS (default below).
#   PostgreSQL URL from SEVWATCH_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
A=$1; B=$2; ROUNDS=${3:-3}; SECS=${4:-6}
PG=${SEVWATCH_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
CELLS=${CELLS:-"webhook 1 32 sqlite
webhook 1 1 sqlite
webhook 100 32 sqlite
pagerduty 1 32 sqlite
pagerduty 1 32 pg
webhook 1 32 pg
webhook 100 32 pg"}

cell() { # cell BIN_DIR SOURCE BATCH CONNS BACKEND
  local bin=$1 src=$2 batch=$3 conns=$4 db=$5 dir args=() schema="" url pid
  dir=$(mktemp -d)
  if [ "$db" = pg ]; then
    schema="sw_ab_$$_$RANDOM"
    psql "$PG" -qc "CREATE SCHEMA $schema" >/dev/null
    args=(--database-url "${PG}?options[search_path]=$schema")
  fi
  SEVWATCH_LOG=warn "$bin/sevwatch" serve --listen 127.0.0.1:0 --data-dir "$dir/d" "${args[@]}" 2> "$dir/log" &
  pid=$!
  url=
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^sevwatch listening on \(http:[^ ]*\).*/\1/p' "$dir/log" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  local admin ingest
  admin=$(cat "$dir/d/admin.token")
  ingest=$("$bin/sevwatch" token create --role ingest --name am --server "$url" --token "$admin")
  "$bin/alertload" --target "$src" --url "$url" --token "$ingest" --read-token "$admin" --batch "$batch" \
    --concurrency "$conns" --seconds "$SECS" --server-pid "$pid" --label "$(basename "$bin")/$db/$src" \
    --record "$dir/r.tsv" | head -1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$schema" ] && psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
  rm -rf "$dir"
}

OUT=$(mktemp)
for _ in $(seq 1 "$ROUNDS"); do
  for bin in "$A" "$B"; do
    while read -r src batch conns db; do
      cell "$bin" "$src" "$batch" "$conns" "$db" | tee -a "$OUT"
    done <<< "$CELLS"
  done
done
echo "== medians of $ROUNDS rounds =="
python3 - "$OUT" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\S+)\s+batch\s+(\d+)\s+conns\s+(\d+).*?(\d+) alerts/s.*p99\s+([\d.]+) ms.*RSS\s+([\d.]+)', line)
    if m:
        rows.setdefault((m[1], m[2], m[3]), []).append((int(m[4]), float(m[5]), float(m[6])))
for k in sorted(rows, key=lambda k: (k[0].split('/', 1)[1], k[1], k[2], k[0])):
    v = rows[k]
    print(f"{k[0]:32} batch {k[1]:>3} conns {k[2]:>2}  runs {[x[0] for x in v]}  median {statistics.median([x[0] for x in v]):>8.0f}/s"
          f"  p99 {[x[1] for x in v]}  RSS {[x[2] for x in v]}")
PY
rm -f "$OUT"
