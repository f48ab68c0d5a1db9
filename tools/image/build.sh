#!/usr/bin/env bash
# Build (once per content) the Bulkhead image without any container registry.
#
# Owns: the image build pipeline and its cache.
#   1. base: a Debian bookworm root filesystem with Debian's python3, made by
#      mmdebstrap from Debian packages only, imported with `podman import`;
#      and the build stage's base, the same with gcc and Python's headers.
#      Each cached by a hash of its packages, this script's recipe and the
#      Debian mirror.
#   2. image: the project's Dockerfile built on that base with podman (runc;
#      buildah underneath), written as an OCI archive. Cached by a hash of the
#      base and every file the Dockerfile copies; podman's layer cache makes a
#      rebuild after a code change skip the dependency install.
# Everything lives OUTSIDE the repository, under
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/image/
#     storage/             podman's own image and layer store (--root)
#     base-<key>.tar       the root filesystem made by mmdebstrap
#     build-base-<key>.tar the build stage's, with the compiler
#     bulkhead-<key>.oci.tar   the image, with bulkhead-<key>.digest beside it
#                          (the manifest digest in the archive's index.json,
#                          the one the chart names as image.digest)
#
# stdout: exactly one line, the OCI archive's path. Progress goes to stderr.
# Needs root (mmdebstrap root mode, podman as root) and the packages of
# tools/node/packages.sh. Network: the Debian mirror apt is configured with
# (DEBIAN_MIRROR overrides it) and the Python package index pip is
# configured with (the host's /etc/pip.conf and CA bundle are mounted for the
# build's RUN steps only; nothing of them ends up in the image).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/image"
suite=bookworm

log() { printf 'image: %s\n' "$*" >&2; }

podman_() {
    # A store of its own (the host's podman images are never touched), runc
    # (crun refuses hybrid cgroup v1/v2 hosts), cgroupfs and file events
    # (PID 1 need not be systemd).
    podman --root "$cache/storage" --runroot /run/bulkhead-image \
        --runtime runc --cgroup-manager cgroupfs --events-backend file "$@"
}

# The mirror URI apt uses for $suite: deb822 *.sources first, then one-line lists.
apt_mirror() {
    local f uri=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        uri=$(awk -v suite="$suite" '
            /^[[:space:]]*$/ { uris = ""; hit = 0 }
            $1 == "URIs:" { uris = $2 }
            $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
            uris != "" && hit { print uris; exit }' "$f")
        [[ -n $uri ]] && break
    done
    if [[ -z $uri ]]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v suite="$suite" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit }
            }')
    fi
    printf '%s\n' "$uri"
}

for tool in mmdebstrap podman; do
    if ! command -v "$tool" >/dev/null; then
        log "$tool is missing; run: bash tools/node/packages.sh (as root)"
        exit 1
    fi
done
if [[ $(id -u) != 0 ]]; then
    log "needs root (mmdebstrap root mode, podman as root)"
    exit 1
fi
mirror="${DEBIAN_MIRROR:-$(apt_mirror)}"
if [[ -z $mirror ]]; then
    log "no apt source for $suite found; set DEBIAN_MIRROR"
    exit 1
fi

mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9

# --- 1. base ------------------------------------------------------------------
# What the image needs at run time from Debian: python3 (3.11, with its
# standard library) on Debian's essential packages, without apt; python3-venv
# only so that the build stage can create the virtualenv (pip itself is not
# kept in the image). /usr is merged by mmdebstrap's hook, not by the usrmerge
# package (which would pull in perl). Documentation, manuals and
# translations are not installed. The build stage's base adds the C compiler
# and Python's headers, for mypyc's build of the pure core (setup.py); the
# compiled modules are copied to the runtime base, the compiler is not.
base_packages=python3,python3-venv
build_packages=$base_packages,gcc,libc6-dev,python3-dev
recipe="$(sed -n '/^# --- 1\. base/,/^# --- 2\./p' "$0")"

# debian_root NAME PACKAGES: print the tag of a base made of PACKAGES (cached).
debian_root() {
    local name=$1 packages=$2 key tar tag start
    key="$({ printf '%s\n' "$suite" "$mirror" "$packages" "$recipe"; } | sha256sum | cut -c1-16)"
    tar="$cache/$name-$key.tar"
    tag="localhost/bulkhead-$name:$key"
    if [[ ! -f $tar ]]; then
        log "$name: mmdebstrap $suite from $mirror (cold: about a minute)"
        start=$(date +%s)
        mmdebstrap --variant=essential --mode=root --format=tar --include="$packages" \
            --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
            --aptopt='APT::Install-Recommends "false"' \
            --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/info/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            --dpkgopt='path-exclude=/usr/share/lintian/*' \
            --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
            "$suite" "$tar.part" "$mirror" >&2
        mv "$tar.part" "$tar"
        log "$name: rootfs $(du -m "$tar" | cut -f1) MB in $(($(date +%s) - start))s"
    fi
    if ! podman_ image exists "$tag"; then
        podman_ import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$tar" "$tag" >&2
    fi
    # Older roots of this name are not reused (their key no longer matches).
    find "$cache" -maxdepth 1 -name "$name-*.tar" ! -name "$name-$key.tar" -delete
    echo "$tag"
}
base_tag="$(debian_root base "$base_packages")"
build_base_tag="$(debian_root build-base "$build_packages")"

# --- 2. image -----------------------------------------------------------------
# The Dockerfile's default BASE_IMAGE and BUILD_BASE_IMAGE, for a plain
# `podman build .` after this.
podman_ tag "$base_tag" "localhost/bulkhead-base:$suite"
podman_ tag "$build_base_tag" "localhost/bulkhead-build-base:$suite"
# The build context is what .dockerignore lets through; hash exactly that.
context_files() {
    (cd "$repo" && git ls-files --cached --others --exclude-standard -- \
        Dockerfile .dockerignore pyproject.toml setup.py README.md webhook) |
        grep -v -e '__pycache__' -e '\.pyc$' | LC_ALL=C sort
}
image_key="$({ echo "$base_tag" "$build_base_tag"; context_files | while IFS= read -r f; do
    [[ -f $repo/$f ]] && printf '%s %s\n' "$f" "$(sha256sum <"$repo/$f" | cut -c1-64)"
done; } | sha256sum | cut -c1-16)"
archive="$cache/bulkhead-$image_key.oci.tar"
if [[ -f $archive && -f $cache/bulkhead-$image_key.digest ]]; then
    log "cached $archive ($(cat "$cache/bulkhead-$image_key.digest"))"
    echo "$archive"
    exit 0
fi
mounts=()
[[ -f /etc/pip.conf ]] && mounts+=(-v /etc/pip.conf:/etc/pip.conf:ro)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] &&
    mounts+=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
log "image: podman build on $base_tag"
start=$(date +%s)
podman_ build --network host "${mounts[@]}" --build-arg "BASE_IMAGE=$base_tag" \
    --build-arg "BUILD_BASE_IMAGE=$build_base_tag" \
    --tag "localhost/bulkhead:$image_key" "$repo" >&2
build_seconds=$(($(date +%s) - start))
rm -f "$archive.part"
podman_ save --format oci-archive -o "$archive.part" "localhost/bulkhead:$image_key" >&2
# podman save writes a new manifest: the digest to use is the archive's own.
python3 -c 'import json, sys, tarfile
index = json.load(tarfile.open(sys.argv[1]).extractfile("index.json"))
print(index["manifests"][0]["digest"])' "$archive.part" >"$cache/bulkhead-$image_key.digest"
mv "$archive.part" "$archive"
# Older archives are not reused (their key no longer matches): drop them. The
# layers stay in podman's store, so going back is quick.
find "$cache" -maxdepth 1 \( -name 'bulkhead-*.oci.tar' -o -name 'bulkhead-*.digest' \) \
    ! -name "bulkhead-$image_key.*" -delete
size="$(podman_ image inspect "localhost/bulkhead:$image_key" --format '{{.Size}}')"
log "image: built in ${build_seconds}s, $((size / 1000000)) MB unpacked, archive $(du -m "$archive" | cut -f1) MB, $(cat "$cache/bulkhead-$image_key.digest")"
echo "$archive"
