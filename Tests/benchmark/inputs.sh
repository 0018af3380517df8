#!/usr/bin/env bash
# Benchmark, run by hand (never part of the test suite): what a 1 MB log line costs redaction and a
# 1 MB NetworkAttachmentDefinition costs parsing, in the release build. Target: each well under 50 ms.
# ROUNDS=N (default 20) rounds of each shape; prints the median and the slowest.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product inputs-bench >/dev/null 2>&1
.build/release/inputs-bench "${ROUNDS:-20}"
