#!/usr/bin/env bash
# Soaks the image with renders and reports its resident memory, for one
# malloc setting: scripts/container-soak.sh arenas|jemalloc PHOTO_DIR [SECONDS]
# (the image from scripts/container-image.sh; originals in a fresh volume).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1 photos=$2 secs=${3:-120}
export CONTAINERS_CONF=$PWD/deploy/podman/containers.conf
image=localhost/imgorigin:test name=imgorigin-soak-$mode port=18381 admin=18382 key=soak-service-key-0123
case $mode in
  arenas) env=(-e MALLOC_ARENA_MAX=2) ;;
  jemalloc) env=(-e MALLOC_ARENA_MAX= -e LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2) ;;
  *) echo "mode: arenas or jemalloc" >&2; exit 2 ;;
esac
podman rm -f "$name" >/dev/null 2>&1 || true
podman volume rm -f "$name" >/dev/null 2>&1 || true
podman run -d --name "$name" --network host --read-only -v "$name:/data" "${env[@]}" \
  -e IMGORIGIN_ADDR=127.0.0.1:$port -e IMGORIGIN_ADMIN_ADDR=127.0.0.1:$admin -e IMGORIGIN_SERVICE_KEYS=$key \
  "$image" serve --variant-cache-bytes 0 --log-level warn >/dev/null
trap 'podman rm -f "$name" >/dev/null; podman volume rm -f "$name" >/dev/null' EXIT
until podman exec "$name" imgorigin health >/dev/null 2>&1; do sleep 0.2; done
rss() { curl -s 127.0.0.1:$admin/metrics | awk '/^process_resident_memory_bytes/ {printf "%.0f", $2/1048576}'; }
echo "$mode: RSS at start $(rss) MB"
keys=()
for f in "$photos"/*.jpg; do
  tok=$(curl -s -XPOST -H "Authorization: Bearer $key" -d '{"subject":"soak"}' 127.0.0.1:$port/v1/upload-tokens | sed 's/.*"token":"\([^"]*\)".*/\1/')
  keys+=("$(curl -s -XPOST -H "Authorization: Bearer $tok" -H 'Content-Type: image/jpeg' --data-binary @"$f" 127.0.0.1:$port/v1/uploads | sed 's/.*"key":"\([^"]*\)".*/\1/')")
done
urls=$(mktemp)
for k in "${keys[@]}"; do for w in 128 320 640 1080 1920; do for fm in webp jpg; do
  echo "http://127.0.0.1:$port/$k?w=$w&fm=$fm"; done; done; done > "$urls"
end=$((SECONDS + secs)) peak=0 n=0
while [ $SECONDS -lt $end ]; do
  xargs -P 4 -n 1 curl -s -o /dev/null < "$urls"
  n=$((n + $(wc -l < "$urls")))
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
done
echo "$mode: $n renders of ${#keys[@]} originals in ${secs}s; RSS peak $peak MB, at the end $(rss) MB"
sleep 10
echo "$mode: RSS 10 s after the load $(rss) MB"
rm -f "$urls"
