#!/usr/bin/env bash
# `make stack`: builds the image and the stack's S3 and CDN images with
# podman, then runs deploy/podman/stack/stack.yaml (imgorigin, versitygw,
# nginx as the CDN) and shows the whole path: upload, CDN MISS, then HIT.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=$PWD/deploy/podman/containers.conf
dir=deploy/podman/stack
scripts/container-image.sh localhost/imgorigin:latest
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$(go env GOPATH)/bin/versitygw" "$ctx/"
podman build --network host --pull=never -q -f "$PWD/$dir/s3.Containerfile" -t localhost/imgorigin-stack-s3:latest "$ctx" >/dev/null
podman build --network host --pull=never -q -f "$PWD/$dir/cdn.Containerfile" -t localhost/imgorigin-stack-cdn:latest "$dir" >/dev/null
podman kube play --replace "$dir/stack.yaml" >/dev/null
until curl -sf 127.0.0.1:9091/readyz >/dev/null && curl -s -o /dev/null 127.0.0.1:8090/; do sleep 0.2; done

echo "stack up: CDN http://127.0.0.1:8090 -> imgorigin 127.0.0.1:8091 (admin 9091) -> S3 127.0.0.1:7071"
photo=$(mktemp --suffix=.png)
# A 640x480 gradient PNG to upload (or set PHOTO=your.jpg).
if [ -n "${PHOTO:-}" ]; then cp "$PHOTO" "$photo"; else python3 -c 'import zlib,struct,sys
w,h=640,480
raw=b"".join(b"\0"+b"".join(bytes((x*255//w,y*255//h,128)) for x in range(w)) for y in range(h))
c=lambda t,d: struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+c(b"IHDR",struct.pack(">IIBBBBB",w,h,8,2,0,0,0))+c(b"IDAT",zlib.compress(raw))+c(b"IEND",b""))' >"$photo"; fi
token=$(curl -s -XPOST -H 'Authorization: Bearer stack-service-key' -d '{"subject":"demo"}' 127.0.0.1:8090/v1/upload-tokens | sed 's/.*"token":"\([^"]*\)".*/\1/')
key=$(curl -s -XPOST -H "Authorization: Bearer $token" -H "Content-Type: application/octet-stream" --data-binary @"$photo" 127.0.0.1:8090/v1/uploads | sed 's/.*"key":"\([^"]*\)".*/\1/')
rm -f "$photo"
echo "uploaded through the CDN: key $key"
for i in 1 2; do
  echo "GET /$key?w=320&auto=format: $(curl -s -o /dev/null -D - -H 'Accept: image/webp' "127.0.0.1:8090/$key?w=320&auto=format" | tr -d '\r' | grep -i -E '^(HTTP|content-type|x-cache-status)' | tr '\n' ' ')"
done
echo "service key: stack-service-key; stop with: make stack-down"
