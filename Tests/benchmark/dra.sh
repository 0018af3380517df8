#!/usr/bin/env bash
# Benchmark, run by hand as root (never part of the test suite): what finding a pod's DRA device
# costs ADD. See dra.py for what it measures and how.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh
swift build -c release --product multus >/dev/null 2>&1
source Tests/scripts/sandbox.sh
make_sandbox dra mdrabr0
# The binary reads the kubelet's socket at its real path: a private mount namespace with a tmpfs
# over /var/lib gives the test kubelet that path without touching the host's.
unshare --mount --propagation private sh -c 'mount -t tmpfs dra-bench /var/lib && exec "$@"' sh \
  python3 Tests/benchmark/dra.py --multus "$PWD/.build/release/multus" --work "$work" --netns "$netns" --bridge mdrabr0 --runs "${RUNS:-60}"
