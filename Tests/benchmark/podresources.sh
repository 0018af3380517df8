#!/usr/bin/env bash
# Benchmark, run by hand (never part of the test suite): what one pod-resources call costs ADD.
# Starts the grpcio test server (Tests/podresources/server.py) with 50 pods, then times Get, List
# and the no-socket look with the release build of Tests/benchmark/podresources/main.swift.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh
swift build -c release --product podresources-bench >/dev/null 2>&1
work=$(mktemp -d /tmp/podres-bench.XXXXXX)
trap 'exec 3>&-; rm -rf "$work"' EXIT
python3 - "$work/pods.json" <<'PY'
import json, sys
pods = [{"name": f"pod-{i}", "namespace": "default", "containers": [{"name": "app", "devices": [
    {"resourceName": "intel.com/sriov", "deviceIds": [f"0000:{i:02x}:00.{j}" for j in range(8)]}]}]} for i in range(50)]
json.dump(pods, open(sys.argv[1], "w"))
PY
mkfifo "$work/control"
PYTHONPATH=/usr/local/lib/swift-multus/python /usr/bin/python3 Tests/podresources/server.py --socket "$work/kubelet.sock" \
  --pods "$work/pods.json" < "$work/control" > "$work/server.out" 2> "$work/server.err" &
exec 3> "$work/control"   # the server runs until this closes
for _ in $(seq 100); do [ -S "$work/kubelet.sock" ] && break; sleep 0.1; done
.build/release/podresources-bench "$work/kubelet.sock" pod-7 default "${ROUNDS:-500}"
