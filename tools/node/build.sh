#!/usr/bin/env bash
# Build (once) and cache the test node's binaries: kubelet, kube-scheduler,
# kube-controller-manager and kube-proxy from the same k8s.io/kubernetes
# release as tools/controlplane (wrapper module tools/node, go.mod generated
# by tools/controlplane/gen_gomod.py), and CoreDNS, the cluster DNS, from its
# Go module (wrapper module tools/coredns).
#
# Cache: ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/{node,coredns}/<key>/bin/
# (see tools/gobuild.sh). stdout: two lines, the node's bin directory, then
# CoreDNS's. Everything else goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
bash "$tools/gobuild.sh" "$here" node kubelet kube-scheduler kube-controller-manager kube-proxy
bash "$tools/gobuild.sh" "$tools/coredns" coredns coredns
