#!/usr/bin/env bash
# Starts the real servers the tests talk to on 127.0.0.1, runs "$@" with their
# addresses in the environment, and stops them however the command ends.
set -euo pipefail
gobin=$(go env GOPATH)/bin
work=$(mktemp -d)
pids=()
cleanup() {
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
echo "versitygw (S3) on $IMGORIGIN_TEST_S3_ENDPOINT"

# nginx is started by the tests that need it (a config per test), from this binary.
export IMGORIGIN_TEST_NGINX=$(command -v nginx || echo /usr/sbin/nginx)

"$@"
