#!/usr/bin/env bash
# End to end on this machine: builds the static multus, starts the local test Kubernetes API
# server (HTTPS, bearer token), makes a throwaway network namespace, and runs ADD for pod
# default/web-json: the cluster network (a NAD, bridge) plus the three NADs its annotation asks for
# (macvlan, ptp, and macvlan with a static IP and MAC), all with the real reference plugins.
# Prints the merged result, the pod's interfaces and the network-status written to the pod;
# then CHECK, DEL, and clean up.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh
swift build -c release --product multus >&2
source Tests/scripts/sandbox.sh
make_sandbox demo mdemobr0
python3 Tests/scripts/demo.py --multus "$PWD/.build/release/multus" --work "$work" --netns "$netns" --parent "$parent" --bridge mdemobr0
