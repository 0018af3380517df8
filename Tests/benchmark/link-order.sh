#!/usr/bin/env bash
# Regenerates Sources/multus/link-order.txt, the functions a CNI call runs, which the release link
# places side by side (see Package.swift). Run by hand as root after changes that move hot code;
# a stale list costs memory, never correctness. See link_order.py for how it is made.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh valgrind
scratch=.build-linkorder
mkdir -p "$scratch"
# Symbols kept and a link map written (Package.swift); the debug info goes, as valgrind 3.19
# cannot read DWARF 5.
MULTUS_LINK_MAP="$PWD/$scratch/multus.map" swift build -c release --product multus --scratch-path "$scratch" >/dev/null 2>&1
objcopy --strip-debug "$scratch/release/multus" "$scratch/multus-profiled"
source Tests/scripts/sandbox.sh
make_sandbox order morderbr0
python3 Tests/benchmark/link_order.py --multus "$PWD/$scratch/multus-profiled" --map "$scratch/multus.map" --work "$work" \
  --netns "$netns" --parent "$parent" --bridge morderbr0 --out Sources/multus/link-order.txt
