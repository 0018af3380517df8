#!/usr/bin/env bash
# Compares two multus binaries by alternating rounds (see compare.py), as root, by hand:
#   bash Tests/benchmark/compare.sh OLD_BINARY [NEW_BINARY, default: this tree's release build]
# SCENARIO=kube compares them on the Kubernetes scenario (test API server, a pod with two NADs).
# For instance, a build of an earlier commit: git worktree add /tmp/old <commit> &&
# (cd /tmp/old && swift build -c release --product multus) && bash Tests/benchmark/compare.sh /tmp/old/.build/release/multus
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: compare.sh OLD_BINARY [NEW_BINARY]}
new=${2:-}
if [ -z "$new" ]; then swift build -c release --product multus >/dev/null 2>&1; new="$PWD/.build/release/multus"; fi
source Tests/scripts/sandbox.sh
make_sandbox compare mcmpbr0
python3 Tests/benchmark/compare.py --old "$old" --new "$new" --work "$work" --netns "$netns" --parent "$parent" \
  --bridge mcmpbr0 --runs "${RUNS:-100}" --scenario "${SCENARIO:-static}"
