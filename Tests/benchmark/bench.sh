#!/usr/bin/env bash
# Benchmark, run by hand as root (never part of the test suite): what the meta-plugin costs on top
# of the delegates it runs. See bench.py for what it measures and how.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh hyperfine
swift build -c release --product multus >/dev/null 2>&1
source Tests/scripts/sandbox.sh
make_sandbox bench mbenchbr0
python3 Tests/benchmark/bench.py --multus "$PWD/.build/release/multus" --work "$work" --netns "$netns" \
  --parent "$parent" --bridge mbenchbr0 --runs "${RUNS:-60}"
