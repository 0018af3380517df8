#!/usr/bin/env bash
# Benchmark of attachConcurrency, run by hand as root (never part of the test suite): ADD and DEL
# of 1, 2, 4 and 8 slow secondaries, one at a time against eight at once. See parallel.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product multus >/dev/null 2>&1
source Tests/scripts/sandbox.sh
make_sandbox par mparbr0
python3 Tests/benchmark/parallel.py --multus "$PWD/.build/release/multus" --work "$work" --netns "$netns" \
  --bridge mparbr0 --steps "$PWD/testdata/plugins" --runs "${RUNS:-15}"
