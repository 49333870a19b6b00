# Thin wrapper over meson. `make run` and `make test` first install the
# Debian packages that are missing (apt-get when root; otherwise they print
# the apt-get line to run and stop), then build.
#
#   make run    release build in build/, then the demonstration (scripts/demo.sh)
#   make test   ASan+UBSan build in build-test/ with -Werror, every suite,
#               ending with the line "N passed, N failed"
#   make bench  release build, then the benchmarks in bench/

DEBS := meson ninja-build pkg-config clang libclang-rt-14-dev \
        libssl-dev libjansson-dev libsodium-dev libsqlite3-dev libuv1-dev zstd
SHELL := /bin/bash

.PHONY: all deps build build-test run test bench clean npm

all: build

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build/build.ninja:
	CC=clang meson setup build --buildtype=release -Db_ndebug=true

build: deps build/build.ninja
	ninja -C build

build-test/build.ninja:
	CC=clang meson setup build-test --buildtype=debug -Dwerror=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true

build-test: deps build-test/build.ninja
	ninja -C build-test

npm: tests/interop/node_modules/.package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "Node.js 20 and npm are needed for the interop tests"; exit 1; }

tests/interop/node_modules/.package-lock.json: tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund

run: build
	./scripts/demo.sh build/cli/ggen

test: build-test npm
	./tests/run_all.sh build-test

bench: build npm
	./bench/run.sh build

clean:
	rm -rf build build-test
