#!/usr/bin/env bash
# Build (once) and cache the real `cosign` CLI and the real OCI registry
# (CNCF distribution) that the supply-chain tests run on loopback.
#
# Owns: the pinned versions, the build flags and the binary cache. The
# binaries live OUTSIDE the repository, in
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/supplychain/<key>/bin/
# where <key> hashes the pinned module versions, the build flags and the Go
# toolchain version. Both are built with `go install module@version`, so the
# modules' own go.mod/go.sum decide the dependencies and the Go checksum
# database verifies every download. A warm run only hashes and prints.
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
# Two concurrent runs never build at once (flock on a lock file in the cache).
# The cold build records its wall time and peak memory in build-stats.txt.
set -euo pipefail

cosign_module="github.com/sigstore/cosign/v2"
cosign_version="v2.6.5"
registry_module="github.com/distribution/distribution/v3"
registry_version="v3.0.0"

log() { printf 'supplychain/build.sh: %s\n' "$*" >&2; }

if ! command -v go >/dev/null; then
    log "the Go toolchain (go) is not on PATH; it is needed to build cosign and the registry"
    exit 1
fi

ldflags="-s -w -X sigs.k8s.io/release-utils/version.gitVersion=${cosign_version}"
go_version="$(go env GOVERSION)"
key_hash="$(
    printf '%s@%s\n%s@%s\nldflags=%s\ngo=%s\ncgo=0\n' \
        "$cosign_module" "$cosign_version" "$registry_module" "$registry_version" \
        "$ldflags" "$go_version" | sha256sum | cut -c1-16
)"
cache_root="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/supplychain"
key_dir="$cache_root/cosign-${cosign_version}-registry-${registry_version}-${key_hash}"
bin_dir="$key_dir/bin"
stats_file="$key_dir/build-stats.txt"

ready() { [[ -x "$bin_dir/cosign" && -x "$bin_dir/registry" && -f "$key_dir/complete" ]]; }

show_stats() {
    if [[ -f "$stats_file" ]]; then
        sed 's/^/supplychain\/build.sh: build stats: /' "$stats_file" >&2
    fi
}

if ready; then
    log "cached cosign ${cosign_version} and registry ${registry_version}"
    show_stats
    echo "$bin_dir"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/build.lock"
log "waiting for the build lock $cache_root/build.lock"
flock 9

if ready; then
    log "built by a concurrent run"
    show_stats
    echo "$bin_dir"
    exit 0
fi

work="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Two cores: keep parallel compiles at two so peak memory stays bounded.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=2 -trimpath -buildvcs=false"
export GOBIN="$work/bin"

build_one() {
    local name="$1" target="$2" flags="$3"
    local start peak_kb seconds
    start="$(date +%s)"
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -v -o "$work/$name.time" go install -ldflags "$flags" "$target" >&2
        peak_kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/$name.time")"
    else
        go install -ldflags "$flags" "$target" >&2
        peak_kb=""
    fi
    seconds=$(($(date +%s) - start))
    if [[ -n "$peak_kb" ]]; then
        echo "$name: ${seconds}s wall (download + build), peak RSS $((peak_kb / 1024)) MiB (largest single process)" >>"$work/stats"
    else
        echo "$name: ${seconds}s wall (download + build), peak RSS not measured" >>"$work/stats"
    fi
}

log "cold build of cosign ${cosign_version} and registry ${registry_version} with ${go_version} (this takes minutes)"
start="$(date +%s)"
build_one registry "${registry_module}/cmd/registry@${registry_version}" "-s -w"
build_one cosign "${cosign_module}/cmd/cosign@${cosign_version}" "$ldflags"
total_seconds=$(($(date +%s) - start))
{
    echo "total: ${total_seconds}s wall on $(nproc) cores, ${go_version}, GOFLAGS=${GOFLAGS}"
    echo "GOCACHE: $(go env GOCACHE) (a warm Go build cache makes this much faster)"
    cat "$work/stats"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$work/build-stats.txt"

"$work/bin/cosign" version >&2
"$work/bin/registry" --version >&2

rm -rf "$key_dir"
mkdir -p "$key_dir"
mv "$work/bin" "$bin_dir"
mv "$work/build-stats.txt" "$stats_file"
touch "$key_dir/complete"
log "built into $bin_dir"
show_stats
echo "$bin_dir"
