#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian 12 machine (as root).
# Idempotent: does nothing when everything is already there.
set -euo pipefail
# podman (CNI backend), runc and busybox-static: the real runtime PodmanTests drives.
packages=(busybox-static containernetworking-plugins iproute2 iptables libnghttp2-dev libssl-dev libyaml-dev openssl podman python3 python3-pip runc zlib1g-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The pod-resources test server (Tests/podresources/server.py) is a real gRPC server: grpcio from
# PyPI, kept out of the system's Python in a directory of its own that the tests put on PYTHONPATH.
python_deps=/usr/local/lib/swift-multus/python
python_pins=(grpcio==1.85.1 grpcio-tools==1.85.1 protobuf==7.36.2)
if ! PYTHONPATH=$python_deps /usr/bin/python3 -c 'import grpc, grpc_tools, google.protobuf' 2>/dev/null; then
  echo "setup: installing ${python_pins[*]} into $python_deps" >&2
  /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore --upgrade --target "$python_deps" "${python_pins[@]}"
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6 toolchain required)" >&2; exit 1; }
