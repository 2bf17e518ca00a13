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

# Packages with concurrent code (the byte caches, single flight, the work
# pool, the store breaker, the upload ledger, the disk store's gate) test
# under the race detector; the rest without it, which builds faster.
RACE_PKGS := ./internal/... ./resizer/ ./server/ ./storage/... ./uploader/

# Installs what tests need, starts the S3-compatible server on 127.0.0.1, runs
# every test (the main module, then deploy/'s manifest checks, a module of its
# own), stops the server; fails on any failure.
test: test-deps
	go vet ./...
	cd deploy && go vet ./...
	scripts/with-test-servers.sh sh -c 'go test -count=1 -timeout 20m -race $(RACE_PKGS) && \
		go test -count=1 -timeout 20m $$(go list ./... | grep -v -x -F "$$(go list $(RACE_PKGS))") && \
		cd deploy && go test -count=1 -timeout 15m ./...'

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
