#!/usr/bin/env bash
# End to end on this machine: builds the static multus, makes a throwaway network namespace, and
# attaches it to three networks (bridge as main, macvlan and ptp as secondaries) with the real
# reference plugins; prints the merged result and the pod's interfaces, then DEL and clean up.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh
swift build -c release --product multus >&2
multus=$PWD/.build/release/multus
source Tests/scripts/sandbox.sh
make_sandbox demo mdemobr0
sed -e "s|@WORK@|$work|g" -e "s|@PARENT@|$parent|g" testdata/demo/00-multus.conf > "$work/00-multus.conf"
export CNI_CONTAINERID=demo-$$ CNI_NETNS=/var/run/netns/$netns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni

echo "== ADD: the merged result multus prints"
CNI_COMMAND=ADD "$multus" < "$work/00-multus.conf" | python3 -m json.tool
echo "== the pod's interfaces"
ip -n "$netns" -br addr
echo "== CHECK"
CNI_COMMAND=CHECK "$multus" < "$work/00-multus.conf" && echo "CHECK passed"
echo "== DEL"
CNI_COMMAND=DEL "$multus" < "$work/00-multus.conf" && ip -n "$netns" -br addr
