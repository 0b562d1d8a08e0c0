#!/usr/bin/env bash
# Property-based API testing with schemathesis: requests generated from the server's own OpenAPI
# document (`/api/v1/openapi.json`), sent to a real `sevwatch serve` on SQLite in a temporary
# directory with its admin token. Fails on any 5xx (`not_a_server_error`) and on any answer
# whose body does not match the document (`response_schema_conformance`). Called by `.ci/run`
# after the test suite, which has built `target/debug/sevwatch` (`cargo build` below is then a
# no-op; a release build would take too long on CI's two cores).
#
# Left out: `GET /api/v1/events/stream` (an event stream never ends) and
# `DELETE /api/v1/tokens/{id}` (a generated id may be the admin token this run uses, after which
# every answer is 401; tests/api/authz.rs covers it).
#
# SCHEMATHESIS_MAX_EXAMPLES bounds the examples per operation (default 100: about a minute on
# two cores); SCHEMATHESIS_SEED replays a run (each run prints its seed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
VERSION=4.32.5
venv=target/schemathesis-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$VERSION"; then
  echo "schemathesis: installing schemathesis==$VERSION from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build -p sevwatch --locked -q
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# An empty configuration file, so that no ./sevwatch.toml is picked up.
: >"$work/sevwatch.toml"
(cd "$work" && exec "$root/target/debug/sevwatch" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
  --config "$work/sevwatch.toml") >"$work/serve.log" 2>&1 &
server=$!
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/^sevwatch listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/serve.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "schemathesis: the server did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
token=$(cat "$work/data/admin.token")
echo "schemathesis: testing $url"

seed=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed=(--seed "$SCHEMATHESIS_SEED")
status=0
# Run from target/schemathesis: its crash cache (.schemathesis/, replayed first on the next run)
# and the JUnit report stay out of the source tree.
mkdir -p target/schemathesis
(cd target/schemathesis && exec "$root/$venv/bin/schemathesis" run "$url/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" \
  --workers 2 \
  --header "Authorization: Bearer $token" \
  --exclude-path /api/v1/events/stream \
  --exclude-name "DELETE /api/v1/tokens/{id}" \
  --report junit --report-dir report \
  "${seed[@]}") || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis: findings (exit $status); panics and errors in the server's log:" >&2
  sed 's/\x1b\[[0-9;]*m//g' "$work/serve.log" | sed -n 's/.*\(panicked at [^ ]*\).*/\1/p; s/.*ERROR.* error=/error=/p' |
    sort | uniq -c | sort -rn | head -20 >&2 || true
fi
exit "$status"
