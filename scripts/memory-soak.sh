#!/usr/bin/env bash
# The image under a memory limit, attacked and loaded at once, its resident
# memory sampled: scripts/memory-soak.sh PHOTO_DIR [MEMORY] [SECONDS] [SUBJECTS]
# (defaults 1g, 600, 1). Each photo is uploaded under SUBJECTS subjects (more
# originals to fill the caches) and read once at 320 and 640 px; then, for
# SECONDS, `bench --attack strangers` runs in a loop beside the shield mix
# over them. Prints the RSS peak and whether the container survived. Needs
# the image from scripts/container-image.sh, bin/imgorigin (make build), jq.
set -euo pipefail
cd "$(dirname "$0")/.."
photos=$1 mem=${2:-1g} secs=${3:-600} subjects=${4:-1}
export CONTAINERS_CONF=$PWD/deploy/podman/containers.conf
image=localhost/imgorigin:test name=imgorigin-memory-soak port=18481 admin=18482 key=soak-service-key-0123
podman rm -f "$name" >/dev/null 2>&1 || true
podman volume rm -f "$name" >/dev/null 2>&1 || true
podman volume create "$name" >/dev/null
trap 'podman rm -f "$name" >/dev/null; podman volume rm -f "$name" >/dev/null' EXIT
podman run -d --name "$name" --network host --memory "$mem" --memory-swap "$mem" -v "$name:/data" \
  -e IMGORIGIN_ADDR=127.0.0.1:$port -e IMGORIGIN_ADMIN_ADDR=127.0.0.1:$admin -e IMGORIGIN_SERVICE_KEYS=$key \
  "$image" serve --log-level warn >/dev/null
until podman exec "$name" imgorigin health >/dev/null 2>&1; do sleep 0.2; done
store=$(podman volume inspect "$name" --format '{{.Mountpoint}}')/originals
keys=()
for s in $(seq 1 "$subjects"); do
  tok=$(curl -s -XPOST -H "Authorization: Bearer $key" -d "{\"subject\":\"soak-$s\",\"max_uploads\":100}" 127.0.0.1:$port/v1/upload-tokens | jq -r .token)
  for f in "$photos"/*; do
    keys+=("$(curl -s -XPOST -H "Authorization: Bearer $tok" -H 'Content-Type: image/jpeg' --data-binary @"$f" 127.0.0.1:$port/v1/uploads | jq -r .key)")
  done
done
for k in "${keys[@]}"; do for w in 320 640; do curl -s -o /dev/null "127.0.0.1:$port/$k?w=$w"; done; done
echo "${#keys[@]} originals uploaded and read"
bench=(./bin/imgorigin bench --url http://127.0.0.1:$port --admin-url http://127.0.0.1:$admin --log-level error)
end=$((SECONDS + secs))
(while [ $SECONDS -lt $end ]; do "${bench[@]}" --keys "$(IFS=,; echo "${keys[*]}")" --scenario shield --duration 60s --warmup 1s >/dev/null 2>&1; done) &
(while [ $SECONDS -lt $end ]; do "${bench[@]}" --attack strangers --service-key $key --attack-store-dir "$store" >/dev/null 2>&1; done) &
peak=0
while [ $SECONDS -lt $end ]; do
  m=$(curl -s 127.0.0.1:$admin/metrics || true)
  rss=$(awk '/^process_resident_memory_bytes/ {printf "%d", $2/1048576}' <<<"$m")
  caches=$(awk '/^imgorigin_resizer_cache_bytes/ {s = s sprintf("%d ", $2/1048576)} END {print s}' <<<"$m")
  echo "$SECONDS s: RSS ${rss:-?} MiB, caches (MiB) ${caches:-?}"
  [ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 5
done
wait
echo "RSS peak $peak MiB under --memory $mem"
podman inspect "$name" --format 'container {{.State.Status}}, OOM-killed {{.State.OOMKilled}}'
