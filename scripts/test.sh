#!/usr/bin/env bash
# Every test, run by `make test` inside scripts/with-test-servers.sh: the
# main module (the packages with concurrent code under the race detector,
# the rest without it, which builds faster), and deploy/'s manifest checks,
# a module of its own, beside the main module's last phase.
#
# The container image that e2e and deploy's kube play run is built in the
# background from the start: its compile overlaps the tests' own. Their
# calls to scripts/container-image.sh wait for it, then find it built.
set -euo pipefail
cd "$(dirname "$0")/.."
race_pkgs="./internal/... ./resizer/ ./server/ ./storage/... ./uploader/"
image_log=$(mktemp)
setsid scripts/container-image.sh >"$image_log" 2>&1 &
image=$!
deploy=""
stop() {
  kill -- -"$image" 2>/dev/null || true
  [ -n "$deploy" ] && kill "$deploy" 2>/dev/null
  wait 2>/dev/null || true
  rm -f "$image_log"
}
trap stop EXIT

go vet ./...
go test -count=1 -timeout 20m -race $race_pkgs
(cd deploy && go test -count=1 -timeout 15m ./...) &
deploy=$!
go test -count=1 -timeout 20m $(go list ./... | grep -v -x -F "$(go list $race_pkgs)")
wait "$deploy"
deploy=""
if ! wait "$image"; then
  # The tests that use the image built it again and passed; say why the early build did not.
  echo "note: the background image build failed:" >&2
  cat "$image_log" >&2
fi
