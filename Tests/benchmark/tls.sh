#!/usr/bin/env bash
# What one Kubernetes ADD spends in OpenSSL, by hand, as root (see tls.py).
exec bash "$(dirname "$0")/profiled.sh" tls tls.py
