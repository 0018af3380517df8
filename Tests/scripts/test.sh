#!/usr/bin/env bash
# The whole check, as CI runs it: install, build the static binary and prove it is static, run
# every test (the integration tests need root: real network namespaces and plugins).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh
swift build -c release --product multus
linkage=$(ldd .build/release/multus 2>&1 || true)   # ldd exits 1 for a static binary
if [[ "$linkage" == *"not a dynamic executable"* ]]; then
  echo "static: .build/release/multus is not a dynamic executable ($(stat -c %s .build/release/multus) bytes)"
else
  echo "FAIL: .build/release/multus is dynamically linked: $linkage" >&2; exit 1
fi
swift test
