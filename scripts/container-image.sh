#!/usr/bin/env bash
# Builds docker/Dockerfile, unchanged, with podman on a machine that reaches
# no container registry: first local stand-ins for its base images
# (debian:bookworm-slim from debootstrap, golang:1.26-bookworm from that plus
# this machine's Go), then the image itself, tagged $1 (default
# localhost/imgorigin:test). Stand-ins are reused once built. One build runs
# at a time: a second caller (make test starts one early, then the tests ask
# for the image) waits, then finds every layer cached.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/imgorigin:test}
export CONTAINERS_CONF=$PWD/deploy/podman/containers.conf
work=${IMGORIGIN_TOOLS:-$HOME/.cache/imgorigin}/container-bases
mkdir -p "$work"
exec 9>"$work/build.lock"
flock 9

if ! podman image exists docker.io/library/debian:bookworm-slim; then
  echo "building a stand-in for debian:bookworm-slim (debootstrap, about 30 s)"
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["bash"]' - docker.io/library/debian:bookworm-slim >/dev/null
  rm -rf "$work/rootfs"
fi
if ! podman image exists docker.io/library/golang:1.26-bookworm; then
  echo "building a stand-in for golang:1.26-bookworm ($(go env GOVERSION))"
  ctx="$work/golang-context"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -al "$(go env GOROOT)" "$ctx/go" 2>/dev/null || cp -a "$(go env GOROOT)" "$ctx/go"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
  podman build --network host --pull=never -q -f "$PWD/deploy/podman/golang.Containerfile" \
    -t docker.io/library/golang:1.26-bookworm "$ctx" >/dev/null
  rm -rf "$ctx"
fi
echo "building $image from docker/Dockerfile"
# The build stage is tagged too, so that its layers (apt, go mod download)
# stay the next build's cache; what an earlier build left untagged (its
# build stage, the image this tag named before) is removed, and only that:
# images of both stages carry the org.imgorigin.stage label.
podman build --network host --pull=never --format docker -q -f docker/Dockerfile --target build -t localhost/imgorigin-build:cache . >/dev/null
podman build --network host --pull=never --format docker -q -f docker/Dockerfile -t "$image" . >/dev/null
podman image prune -f --filter label=org.imgorigin.stage >/dev/null
