#!/bin/sh
# Builds scanner.wasm from src/scanner.c with Debian's clang and wasm-ld.
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib -ffreestanding -fuse-ld=lld \
	-Wl,--no-entry -Wl,--export=_start -Wl,--strip-all \
	-o scanner.wasm src/scanner.c
