#!/usr/bin/env bash
# Install the Debian packages the image build and the test node need.
#
# Owns: the list of host packages for `make image` and `make test-node`:
#   mmdebstrap            the image's base root filesystem, from Debian packages
#   podman, buildah       the image build (project Dockerfile) and the hardened run test
#   runc                  the OCI runtime of podman and of the node's containerd
#   containerd            the node's CRI runtime (1.6 in bookworm)
#   containernetworking-plugins   the node's Pod network (bridge, host-local, portmap)
#   iptables, conntrack   kube-proxy's Service rules
# Needs root (apt-get). A warm run (everything installed) only checks dpkg and
# exits without touching the network. Nothing is started: the node harness
# runs containerd with its own socket, root and state.
set -euo pipefail

packages=(mmdebstrap podman buildah runc containerd containernetworking-plugins iptables conntrack time)
log() { printf 'packages.sh: %s\n' "$*" >&2; }

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
if [[ $(id -u) != 0 ]]; then
    log "missing ${missing[*]}; run as root: bash tools/node/packages.sh"
    exit 1
fi
log "installing ${missing[*]}"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
log "installed in $(($(date +%s) - start))s"
