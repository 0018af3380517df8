#!/usr/bin/env bash
# The per-call floor, by hand, as root (never part of the test suite): the five figures of
# floor.py, each against its baseline in alternating rounds. RUNS=N sets the rounds (default 200).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh gcc libc6-dev
swift build -c release --product multus >/dev/null 2>&1
source Tests/scripts/sandbox.sh
make_sandbox floor mfloorbr0
gcc -O2 -Wall -o "$work/alternate" Tests/benchmark/floor/alternate.c
gcc -O2 -static -Wall -o "$work/noop" Tests/benchmark/floor/noop.c
python3 Tests/benchmark/floor.py --multus "$PWD/.build/release/multus" --work "$work" --netns "$netns" --parent "$parent" \
  --bridge mfloorbr0 --alternate "$work/alternate" --noop "$work/noop" --runs "${RUNS:-200}"
