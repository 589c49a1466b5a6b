#!/usr/bin/env bash
# Runs one fuzz harness for a bounded time on its seed corpus (CTest's
# fuzz_*_short tests). New inputs go to a temporary directory, so the seed
# corpus in the repository is only read; crash, leak and timeout inputs
# are kept in ARTIFACTS.
#
#   run_short.sh HARNESS CORPUS SECONDS ARTIFACTS
set -euo pipefail

if [ $# -ne 4 ]; then
	echo "usage: run_short.sh HARNESS CORPUS SECONDS ARTIFACTS" >&2
	exit 2
fi
harness=$1
corpus=$2
secs=$3
artifacts=$4

work=$(mktemp -d "${TMPDIR:-/tmp}/rove-fuzz-short.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"

# libFuzzer writes new inputs to the first corpus directory only. A fixed
# seed makes a short run in CI repeat the same exploration.
"$harness" -seed=1 -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$work" "$corpus"
