#!/usr/bin/env bash
# Installs what imgorigin needs on Debian 12, only where missing.
#   install-deps.sh run   libvips (runtime and headers for cgo)
#   install-deps.sh test  the above, plus the servers the tests talk to
set -euo pipefail
what=${1:-run}
VERSITYGW_VERSION=v1.8.0
FAUXQS_VERSION=1.9.2
# Client libraries the tests run against real servers (npm): the JWT
# libraries backends verify result tokens with, imgix's URL builder and its
# parameter spec, and ThumbHash's reference implementation, which clients
# decode placeholders with.
NODE_CLIENTS="jsonwebtoken@9.0.3 jwks-rsa@4.1.0 jose@6.2.18 @imgix/js-core@3.8.0 thumbhash@0.1.1 imgix-url-params@11.36.0"
# Where test tools that are not Debian packages or Go modules live.
TOOLS=${IMGORIGIN_TOOLS:-$HOME/.cache/imgorigin}

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then sudo_ apt-get update -qq; apt_updated=1; fi
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need=()
pkg-config --exists vips 2>/dev/null || need+=(libvips-dev pkg-config)
# The fonts txt draws with (libvips finds them through fontconfig).
# (grep -q would stop reading early, and pipefail then counts fc-list as failed)
fc-list 2>/dev/null | grep DejaVuSans >/dev/null || need+=(fonts-dejavu-core fontconfig)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
if [ "$what" = test ]; then
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
  command -v node >/dev/null || need+=(nodejs npm)
  # Debian's PyJWT, for the system python3 (not any other python on PATH).
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null || need+=(python3 python3-jwt python3-cryptography)
  # Prometheus and promtool: the alerts' unit tests, and the real server the
  # dashboard's queries run against.
  command -v promtool >/dev/null && command -v prometheus >/dev/null || need+=(prometheus)
  # The perceptual distance the views benchmark measures bytes against.
  command -v butteraugli >/dev/null || need+=(butteraugli)
  # A real browser for the CORS, srcset and upload test.
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # Containers without a Docker engine: the image and Kubernetes manifest tests.
  for p in podman runc debootstrap; do command -v $p >/dev/null || [ -x /usr/sbin/$p ] || need+=($p); done
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt_install "${need[@]}"
fi

if [ "$what" = test ]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then
    echo "fauxqs (the SQS-compatible test server) needs Node.js 20 or newer; this machine has $(node --version 2>/dev/null || echo none)" >&2
    exit 1
  fi
  if [ "$(node -p "require('$TOOLS/fauxqs/node_modules/fauxqs/package.json').version" 2>/dev/null)" != "$FAUXQS_VERSION" ]; then
    echo "installing fauxqs $FAUXQS_VERSION (the SQS-compatible test server)"
    mkdir -p "$TOOLS/fauxqs"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/fauxqs" "fauxqs@$FAUXQS_VERSION" >/dev/null
  fi
  installed=$(cd "$TOOLS/node-clients" 2>/dev/null && node -p "['jsonwebtoken','jwks-rsa','jose','@imgix/js-core','thumbhash','imgix-url-params'].map(p => p + '@' + require('./node_modules/' + p + '/package.json').version).join(' ')" 2>/dev/null || true)
  if [ "$installed" != "$NODE_CLIENTS" ]; then
    echo "installing $NODE_CLIENTS (client libraries for the conformance tests)"
    mkdir -p "$TOOLS/node-clients"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/node-clients" $NODE_CLIENTS >/dev/null
  fi
  # Go programs the tests run, each a Go tool of a module of its own under
  # tools/ (their dependencies stay out of imgorigin's): built once into
  # $TOOLS/bin and kept while their version is the one the module names.
  build_tool() { # module-dir module package name minutes
    local version
    version=$(cd "$(dirname "$0")/../$1" && go list -m -f '{{.Version}}' "$2")
    if ! go version -m "$TOOLS/bin/$4" 2>/dev/null | grep -q "$2[[:space:]]*$version"; then
      echo "building $4 $version (a test tool; about $5 minutes)"
      (cd "$(dirname "$0")/../$1" && GOFLAGS=-buildvcs=false go build -o "$TOOLS/bin/$4" "$3")
    fi
  }
  # Jaeger: the tracing backend the e2e tests send traces to.
  build_tool tools github.com/jaegertracing/jaeger github.com/jaegertracing/jaeger/cmd/jaeger jaeger 4
  # Helm: lints and renders the chart in deploy/helm.
  build_tool tools/helm helm.sh/helm/v4 helm.sh/helm/v4/cmd/helm helm 3
  gobin=$(go env GOPATH)/bin
  if ! go version -m "$gobin/versitygw" 2>/dev/null | grep -q "versitygw[[:space:]]*$VERSITYGW_VERSION"; then
    echo "installing versitygw $VERSITYGW_VERSION (the S3-compatible test server; about a minute)"
    GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  fi
fi
