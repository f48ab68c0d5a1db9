#!/usr/bin/env bash
# Build (once) the test node's sandbox ("pause") image without a registry:
# Kubernetes' own build/pause/linux/pause.c from the k8s.io/kubernetes module
# that tools/node pins, compiled static with gcc, committed with buildah
# from scratch and written as an OCI archive.
#
# Cache: ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/node/pause-<key>.oci.tar,
# <key> a hash of pause.c and the compiler version; buildah's store is the
# image build's (tools/image/build.sh). stdout: exactly one line, the
# archive's path. Needs root (buildah), gcc with a static libc, Go (to find
# the module).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}"
log() { printf 'pause: %s\n' "$*" >&2; }

k8s_dir="$(cd "$here" && go mod download -json k8s.io/kubernetes | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
src="$k8s_dir/build/pause/linux/pause.c"
key="$({ cat "$src"; gcc --version | head -n1; } | sha256sum | cut -c1-16)"
archive="$cache/node/pause-$key.oci.tar"
if [[ -f $archive ]]; then
    echo "$archive"
    exit 0
fi
mkdir -p "$cache/node"
work="$(mktemp -d "$cache/node/.pause.XXXXXX")"
trap 'rm -rf "$work"' EXIT
gcc -Os -Wall -static -DVERSION=v3.10-bulkhead -o "$work/pause" "$src"
strip "$work/pause"
b=(buildah --root "$cache/image/storage" --runroot /run/bulkhead-image)
container="$("${b[@]}" from scratch)"
"${b[@]}" copy "$container" "$work/pause" /pause >/dev/null
"${b[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "$container"
"${b[@]}" commit --rm "$container" "localhost/pause:bulkhead-$key" >&2
"${b[@]}" push "localhost/pause:bulkhead-$key" "oci-archive:$work/pause.oci.tar:localhost/pause:bulkhead" >&2
mv "$work/pause.oci.tar" "$archive"
log "built $archive"
echo "$archive"
