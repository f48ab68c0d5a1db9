#!/usr/bin/env bash
# Build (once) and cache the real kube-apiserver and etcd binaries that the
# Bulkhead test harness runs on loopback, from this wrapper module.
#
# The recipe (flags, version stamping, cache key, lock, build stats) is
# tools/gobuild.sh's. The binaries live OUTSIDE the repository, in
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/controlplane/<key>/bin/
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../gobuild.sh" "$here" controlplane kube-apiserver etcd
