#!/usr/bin/env bash
# Generate, build and start an example backend (make run).
# PostgreSQL: $DATABASE_URL if set, else 127.0.0.1:5432 if it answers, else a
# private cluster started from the local PostgreSQL binaries in .pgdata/
# (git-ignored) and stopped when the backend exits.
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=${1:-examples/clinic}
NAME=$(basename "$SPEC")
OUT="$SPEC/backend"
BIN="$PWD/bin"
PORT=${PORT:-8080}

"$BIN/exhgen" generate "$SPEC" -o "$OUT"
(cd "$OUT" && go build -o "$BIN/$NAME" .)

STOP_PG=()
if [ -z "${DATABASE_URL:-}" ]; then
  ADMIN=""
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    ADMIN="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/exhgen_$NAME?sslmode=disable"
  else
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$PGBIN" ]; then PGBIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)"); fi
    if [ ! -x "$PGBIN/initdb" ]; then
      echo "No PostgreSQL found: set DATABASE_URL, start one on 127.0.0.1:5432, or install the binaries (apt-get install -y postgresql)." >&2
      exit 1
    fi
    PGPORT=54329; BASE="$PWD/.pgdata"; AS=()
    if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); mkdir -p "$BASE"; chown postgres: "$BASE"; else mkdir -p "$BASE"; fi
    if [ ! -f "$BASE/data/PG_VERSION" ]; then
      "${AS[@]}" "$PGBIN/initdb" -D "$BASE/data" -U postgres -A trust -E UTF8 >"$BASE/initdb.log"
    fi
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$BASE/data" -l "$BASE/data/server.log" -w -s \
      -o "-k $BASE -p $PGPORT -c listen_addresses=''" start
    STOP_PG=("${AS[@]}" "$PGBIN/pg_ctl" -D "$BASE/data" -m fast -w -s stop)
    ADMIN="postgres://postgres@/postgres?host=$BASE&port=$PGPORT"
    DATABASE_URL="postgres://postgres@/exhgen_$NAME?host=$BASE&port=$PGPORT"
  fi
  if ! psql "$ADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname = 'exhgen_$NAME'" | grep -q 1; then
    psql "$ADMIN" -qc "CREATE DATABASE exhgen_$NAME"
  fi
fi
export DATABASE_URL EXH_ADDR="127.0.0.1:$PORT" EXH_LOG_FORMAT=${EXH_LOG_FORMAT:-text}
cleanup() { if [ ${#STOP_PG[@]} -gt 0 ]; then "${STOP_PG[@]}" || true; STOP_PG=(); fi; }
trap cleanup EXIT

URL="http://127.0.0.1:$PORT"
cat <<MSG

  $NAME backend: $URL   (OpenAPI: $URL/openapi.json, database: ${DATABASE_URL%%\?*})

  Register, get a token and make a request:
    curl -s $URL/auth/register -H 'Content-Type: application/json' \\
      -d '{"email":"ann@example.com","password":"correct horse battery staple"}'
    TOKEN=\$(curl -s $URL/auth/login -H 'Content-Type: application/json' \\
      -d '{"email":"ann@example.com","password":"correct horse battery staple"}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
    curl -s $URL/data/measurement/documents -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
      -d '{"systolic":128,"diastolic":84,"taken_at":"2026-11-27T08:30:00Z"}'
    curl -s $URL/data/measurement/documents -H "Authorization: Bearer \$TOKEN"

  Ctrl-C stops it.

MSG
"$BIN/$NAME" serve &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID; cleanup' INT TERM
wait $PID
