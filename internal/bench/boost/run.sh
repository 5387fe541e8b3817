#!/usr/bin/env bash
# Runs the Boost.Interprocess message_queue peer alone: builds it with
# g++ -O2 in a temporary directory (installing libboost-dev if missing) and
# prints one line per figure, in scb bench's units (M items/s; round trips
# as the p50 in µs), each the median of --runs runs.
#
#   internal/bench/boost/run.sh [--items N] [--runs R] [--only id,...] [--load K]
#
# Figures: small batch 1k rt-block mpmc2 mpmc4 oversub-small oversub-batch
# oversub-mpmc2 (the ids of scb bench --json's rows). Defaults: --items
# 5000000 (as scb bench), --runs 3, --load 4.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer=$("$here/build.sh" "$tmp")
runs=(--runs 3)
for a in "$@"; do [ "$a" = --runs ] && runs=(); done
printf 'Boost.Interprocess message_queue, %s, %d CPUs\n' "$(uname -sm)" "$(nproc)"
printf '%-16s %10s  %-10s %s\n' id value unit figure
"$peer" "${runs[@]}" "$@" | awk -F'\t' '{ printf "%-16s %10s  %-10s %s\n", $1, $2, $3, $4 }'
