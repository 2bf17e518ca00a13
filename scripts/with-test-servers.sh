#!/usr/bin/env bash
# Starts the real servers the tests talk to on 127.0.0.1, runs "$@" with their
# addresses in the environment, and stops them however the command ends.
set -euo pipefail
gobin=$(go env GOPATH)/bin
TOOLS=${IMGORIGIN_TOOLS:-$HOME/.cache/imgorigin}
work=$(mktemp -d)
chmod 755 "$work" # the postgres user must reach its directory inside
pids=()
pgctl=""
cleanup() {
  [ -n "$pgctl" ] && $pgctl stop -m immediate >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; return 1
}
wait_port() { # name port log
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not start on 127.0.0.1:$2; its log:" >&2; cat "$3" >&2; return 1
}

# S3: versitygw serving a temporary directory.
s3port=$(free_port)
mkdir -p "$work/s3"
export AWS_ACCESS_KEY_ID=imgorigin-test AWS_SECRET_ACCESS_KEY=imgorigin-test-secret AWS_REGION=us-east-1
"$gobin/versitygw" --port "127.0.0.1:$s3port" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
  posix "$work/s3" >"$work/versitygw.log" 2>&1 &
pids+=($!)
wait_port versitygw "$s3port" "$work/versitygw.log"
export IMGORIGIN_TEST_S3_ENDPOINT="http://127.0.0.1:$s3port"
# Tests that need servers of their own (regions that go down) start this binary.
export IMGORIGIN_TEST_VERSITYGW="$gobin/versitygw"
echo "versitygw (S3) on $IMGORIGIN_TEST_S3_ENDPOINT"

# SQS: fauxqs, through a launcher that binds 127.0.0.1 only.
sqsport=$(free_port)
node "$(dirname "$0")/fauxqs-loopback.mjs" "$TOOLS/fauxqs" "$sqsport" >"$work/fauxqs.log" 2>&1 &
pids+=($!)
wait_port fauxqs "$sqsport" "$work/fauxqs.log"
export IMGORIGIN_TEST_SQS_ENDPOINT="http://127.0.0.1:$sqsport"
echo "fauxqs (SQS) on $IMGORIGIN_TEST_SQS_ENDPOINT"

# PostgreSQL: a throwaway cluster on 127.0.0.1 (PostgreSQL will not run as
# root, so as the postgres user when we are root).
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgport=$(free_port)
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg/data" -A trust -U imgorigin >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
pgctl="${as_pg[*]} $pgbin/pg_ctl -D $work/pg/data"
$pgctl -o "-c listen_addresses=127.0.0.1 -p $pgport -k $work/pg -c fsync=off" -l "$work/pg/log" -w start >/dev/null || { cat "$work/pg/log" >&2; exit 1; }
export IMGORIGIN_TEST_POSTGRES="postgres://imgorigin@127.0.0.1:$pgport/postgres?sslmode=disable"
echo "PostgreSQL on 127.0.0.1:$pgport"

# The client libraries the conformance tests run, installed by install-deps.sh.
export IMGORIGIN_TEST_NODE_MODULES="$TOOLS/node-clients/node_modules"
export IMGORIGIN_TEST_CHROMIUM=/usr/bin/chromium

# Jaeger (traces) is started by the tests that need it, from this binary;
# helm renders the chart.
export IMGORIGIN_TEST_JAEGER="$TOOLS/bin/jaeger" IMGORIGIN_TEST_HELM="$TOOLS/bin/helm"

# nginx is started by the tests that need it (a config per test), from this binary.
export IMGORIGIN_TEST_NGINX=$(command -v nginx || echo /usr/sbin/nginx)

"$@"
