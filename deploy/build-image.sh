#!/usr/bin/env bash
# Builds the swift-multus image (deploy/Containerfile: FROM scratch, the static binary, entrypoint
# `multus install`) and smoke-tests it: the container runs with temporary host directories and a
# made-up service account bind-mounted, and the files it writes on the "host" are checked, then
# SIGTERM with --cleanup-config-on-exit must remove them. Not run by CI (no container engine
# needed there); run it by hand, as root:  bash deploy/build-image.sh [image-name]
# PODMAN_RUN_FLAGS adds flags to `podman run`, for hosts where podman's defaults cannot start a
# container, e.g. "--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024" without
# CAP_SYS_RESOURCE and with hybrid cgroups, which crun refuses.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/swift-multus:latest}

command -v podman >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman; }
swift build -c release --product multus
linkage=$(ldd .build/release/multus 2>&1 || true)   # ldd exits 1 for a static binary
if [[ "$linkage" != *"not a dynamic executable"* ]]; then
  echo "FAIL: .build/release/multus is not static; an image FROM scratch needs it to be" >&2; exit 1
fi

work=$(mktemp -d /tmp/swift-multus-image.XXXXXX)
name="swift-multus-smoke-$$"
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/context"
cp .build/release/multus deploy/Containerfile "$work/context/"
podman build --tag "$image" --file "$work/context/Containerfile" "$work/context"

# The host's /etc/cni/net.d with a primary config, an empty /opt/cni/bin, and a service account.
host="$work/host"; sa="$work/serviceaccount"
mkdir -p "$host/etc/cni/net.d" "$host/opt/cni/bin" "$sa"
cp testdata/install/10-flannel.conflist "$host/etc/cni/net.d/"
cp testdata/install/ca.crt "$sa/ca.crt"
printf 'smoke-token-1' > "$sa/token"
printf 'kube-system' > "$sa/namespace"

# shellcheck disable=SC2086  # PODMAN_RUN_FLAGS is a list of flags
podman run --detach --name "$name" --network none ${PODMAN_RUN_FLAGS:-} \
  --env KUBERNETES_SERVICE_HOST=10.96.0.1 --env KUBERNETES_SERVICE_PORT=443 \
  --volume "$host/etc/cni/net.d:/host/etc/cni/net.d" --volume "$host/opt/cni/bin:/host/opt/cni/bin" \
  --volume "$sa:/var/run/secrets/kubernetes.io/serviceaccount:ro" \
  "$image" --multus-conf-file=auto --cleanup-config-on-exit >/dev/null

fail() { echo "FAIL: $*" >&2; podman logs "$name" >&2 || true; exit 1; }
conf="$host/etc/cni/net.d/00-multus.conflist"
for _ in $(seq 100); do [[ -f "$conf" ]] && break; sleep 0.1; done
[[ -f "$conf" ]] || fail "no $conf after 10 s"

cmp -s .build/release/multus "$host/opt/cni/bin/multus" || fail "the binary on the host differs from the one built"
grep -q '"type":"multus"' "$conf" || fail "$conf is not a multus config"
grep -q '"name":"cbr0"' "$conf" || fail "$conf does not wrap the primary"
grep -q '"kubeconfig":"/etc/cni/net.d/multus.d/multus.kubeconfig"' "$conf" || fail "$conf does not name the host's kubeconfig"
grep -q '"portMappings":true' "$conf" || fail "$conf lacks the primary's capabilities"
kubeconfig="$host/etc/cni/net.d/multus.d/multus.kubeconfig"
grep -q 'tokenFile: "/etc/cni/net.d/multus.d/token"' "$kubeconfig" || fail "$kubeconfig does not reference the host's token copy"
grep -q 'server: "https://10.96.0.1:443"' "$kubeconfig" || fail "$kubeconfig names the wrong server"
[[ "$(cat "$host/etc/cni/net.d/multus.d/token")" == smoke-token-1 ]] || fail "the token copy is not the service account's"
[[ "$(stat -c %a "$host/etc/cni/net.d/multus.d")" == 700 ]] || fail "multus.d is not 0700"

podman stop --time 10 "$name" >/dev/null
[[ ! -e "$conf" && ! -e "$kubeconfig" ]] || fail "SIGTERM with --cleanup-config-on-exit left the config or kubeconfig"
echo "--- container log"
podman logs "$name"
echo "OK: $image ($(podman image inspect --format '{{.Size}}' "$image") bytes) installs, writes the config and kubeconfig, and cleans up on SIGTERM"
