# The two commands README.md opens with: `make run` and `make test`.
SHELL := /bin/bash
export GOFLAGS := -buildvcs=false
# glibc's per-thread malloc arenas make a libvips server's RSS only grow; two
# arenas keep it flat (the most reported problem of libvips servers).
export MALLOC_ARENA_MAX := 2
ARGS ?=

.PHONY: run test build deps test-deps bench fuzz image stack stack-down

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test

build: deps
	go build -o bin/imgorigin ./cmd/imgorigin

# The embedded default: uploader and resizer on 127.0.0.1:8080, originals under ./data.
run: build
	./bin/imgorigin serve $(ARGS)

# Installs what tests need, starts the real servers on 127.0.0.1 (S3, SQS,
# PostgreSQL), runs every test (scripts/test.sh: vet, the concurrent
# packages under the race detector, the rest, deploy/'s manifest checks,
# with the container image building beside them), stops the servers; fails
# on any failure.
test: test-deps
	scripts/with-test-servers.sh scripts/test.sh

# The standard benchmark suite (about 3 minutes): writes bench/results/latest.md
# and .json. CORPUS=DIR uses a directory of real photographs (.jpg .png .webp).
CORPUS ?=
bench: build
	./bin/imgorigin bench --duration 20s --warmup 3s --concurrency 2 $(if $(CORPUS),--corpus $(CORPUS)) \
		--json bench/results/latest.json --markdown bench/results/latest.md --log-level warn
	@cat bench/results/latest.md

# Longer fuzzing than `make test` does (it runs only the checked-in corpora).
# New inputs that fail land in the package's testdata/fuzz: commit them.
FUZZTIME ?= 1m
fuzz: deps
	go test ./resizer/ -run '^$$' -fuzz '^FuzzParseOptions$$' -fuzztime $(FUZZTIME)
	go test ./token/ -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME)
	go test ./imaging/ -run '^$$' -fuzz '^FuzzSniff$$' -fuzztime $(FUZZTIME)

# The container image, with podman (Docker: docker build -f docker/Dockerfile .).
image: test-deps
	scripts/container-image.sh localhost/imgorigin:latest

# The whole path on one machine with podman: imgorigin, versitygw (S3) and
# nginx as the CDN; shows an upload, then a CDN MISS and a HIT.
stack: test-deps
	scripts/stack.sh

stack-down:
	CONTAINERS_CONF=$(CURDIR)/deploy/podman/containers.conf podman kube down deploy/podman/stack/stack.yaml
