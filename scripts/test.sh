#!/usr/bin/env bash
# Every test, run by `make test` inside scripts/with-test-servers.sh: the
# main module (the packages with concurrent code under the race detector,
# the rest without it, which builds faster) and deploy/'s manifest checks, a
# module of its own.
#
# On two cores the compiles are most of the time, so the lanes overlap:
# - the container image that e2e and deploy's kube play run builds in the
#   background from the start (their calls to scripts/container-image.sh
#   wait for it, then find it built);
# - once vet has compiled the dependencies, migrate and e2e (mostly waiting
#   on queue timeouts, other processes and the image) and deploy test beside
#   the race detector's compile;
# - then the rest of the main module.
set -euo pipefail
cd "$(dirname "$0")/.."
# The packages with concurrent code: the byte caches, single flight, the work
# pool, the store breaker, the upload ledger, the disk store's gate. Their
# tests stay off S3 and SQS (storage/s3, migrate and e2e test those), so that the
# race detector's build leaves out the AWS SDK.
race_pkgs="./internal/flight/ ./internal/workpool/ ./resizer/ ./server/ ./storage/ ./storage/disk/ ./storage/regions/ ./uploader/"
side_pkgs="./migrate/ ./e2e/"
# Test binaries need no debugger's tables (panics and race reports name
# functions and lines without them): a tenth of each compile and a third of
# each link, on a run that is mostly compiling.
export GOFLAGS="${GOFLAGS:-} -gcflags=all=-dwarf=false -ldflags=-w"
export CGO_CFLAGS="${CGO_CFLAGS:--O2}"
image_log=$(mktemp)
setsid scripts/container-image.sh >"$image_log" 2>&1 &
image=$!
side=()
stop() { # each lane leads a process group of its own (setsid): stop all of it
  for p in "$image" "${side[@]}"; do kill -- -"$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$image_log"
}
trap stop EXIT

go vet ./... # all of its checks: the main module's go test runs below skip their subset
setsid go test -vet=off -count=1 -timeout 20m $side_pkgs &
side+=($!)
(cd deploy && exec setsid go test -count=1 -timeout 15m ./...) &
side+=($!)
go test -vet=off -count=1 -timeout 20m -race $race_pkgs
go test -vet=off -count=1 -timeout 20m $(go list ./... | grep -v -x -F "$(go list $race_pkgs $side_pkgs)")
for p in "${side[@]}"; do wait "$p"; done
side=()
if ! wait "$image"; then
  # The tests that use the image built it again and passed; say why the early build did not.
  echo "note: the background image build failed:" >&2
  cat "$image_log" >&2
fi
