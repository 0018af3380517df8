# Sourced by demo.sh and bench.sh: a throwaway world for one run, removed on exit.
#   make_sandbox NAME POD_BRIDGE  sets $work (a temp dir), $netns (a new network namespace) and
#   $parent (an empty up bridge: the macvlan parent, as this kernel has no dummy links);
#   POD_BRIDGE is the bridge the config's bridge plugin will create, deleted on exit too.
make_sandbox() {
  work=$(mktemp -d "/tmp/swift-multus-$1.XXXXXX")
  netns=multus-$1-$$
  parent=m$1$$
  pod_bridge=$2
  trap 'ip netns del "$netns" 2>/dev/null || true; ip link del "$parent" 2>/dev/null || true; ip link del "$pod_bridge" 2>/dev/null || true; rm -rf "$work"' EXIT
  ip netns add "$netns"
  ip link add "$parent" type bridge && ip link set "$parent" up
}
