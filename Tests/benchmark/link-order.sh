#!/usr/bin/env bash
# Regenerates Sources/multus/link-order.txt, the functions a CNI call runs, which the release link
# places side by side (see Package.swift). Run by hand as root after changes that move hot code;
# a stale list costs memory, never correctness. See link_order.py for how it is made.
exec bash "$(dirname "$0")/profiled.sh" order link_order.py --map .build-linkorder/multus.map --out Sources/multus/link-order.txt
