#!/usr/bin/env bash
# Runs a profiling script against multus under callgrind, as root, for link-order.sh and tls.sh:
#   profiled.sh NAME SCRIPT.py [ARGS...]
# builds the release binary with its symbols kept and a link map written (Package.swift's
# MULTUS_LINK_MAP) in .build-linkorder, strips the debug info (valgrind 3.19 cannot read DWARF 5),
# makes a sandbox NAME, and runs SCRIPT.py with --multus, --work, --netns, --parent, --bridge and ARGS.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1 script=$2
shift 2
bash Tests/scripts/setup.sh valgrind
scratch=.build-linkorder
mkdir -p "$scratch"
MULTUS_LINK_MAP="$PWD/$scratch/multus.map" swift build -c release --product multus --scratch-path "$scratch" >/dev/null 2>&1
objcopy --strip-debug "$scratch/release/multus" "$scratch/multus-profiled"
source Tests/scripts/sandbox.sh
make_sandbox "$name" "m${name}br0"
python3 "Tests/benchmark/$script" --multus "$PWD/$scratch/multus-profiled" --work "$work" --netns "$netns" --parent "$parent" \
  --bridge "m${name}br0" "$@"
