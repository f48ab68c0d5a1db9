#!/usr/bin/env bash
# Build (once) and cache the real kube-apiserver and etcd binaries that the
# Bulkhead test harness runs on loopback.
#
# Owns: the build recipe (flags, version stamping) and the binary cache.
# The binaries live OUTSIDE the repository, in
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/controlplane/<key>/bin/
# where <key> is the Kubernetes version plus a hash of everything that
# decides the output (go.mod, go.sum, the main packages, the build flags and
# the Go toolchain version). A warm run only hashes and prints.
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
# Two concurrent runs never build at once (flock on a lock file in the cache).
# The cold build records its wall time and peak memory in build-stats.txt
# next to bin/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes v\([0-9][0-9.]*\)$/\1/p' "$here/go.mod" | head -n1)"
if [[ -z "$k8s_version" ]]; then
    echo "build.sh: cannot find the k8s.io/kubernetes version in $here/go.mod" >&2
    exit 1
fi
k8s_minor="$(cut -d. -f2 <<<"$k8s_version")"
staging_version="v0.${k8s_minor}.$(cut -d. -f3 <<<"$k8s_version")"

log() { printf 'build.sh: %s\n' "$*" >&2; }

if ! command -v go >/dev/null; then
    log "the Go toolchain (go) is not on PATH; it is needed to build kube-apiserver and etcd"
    exit 1
fi

# Version stamping: /version of the apiserver and `--version` of the binary
# read these package variables, which a plain `go build` leaves at v0.0.0.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=v${k8s_version}"
    ldflags+=" -X ${pkg}.gitMajor=1"
    ldflags+=" -X ${pkg}.gitMinor=${k8s_minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean"
done

go_version="$(go env GOVERSION)"
key_hash="$(
    {
        cat "$here/go.mod" "$here/go.sum"
        find "$here/cmd" -name '*.go' -type f | LC_ALL=C sort | xargs cat
        printf 'ldflags=%s\ngo=%s\ncgo=0\n' "$ldflags" "$go_version"
    } | sha256sum | cut -c1-16
)"
cache_root="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/controlplane"
key_dir="$cache_root/v${k8s_version}-${key_hash}"
bin_dir="$key_dir/bin"
stats_file="$key_dir/build-stats.txt"

ready() { [[ -x "$bin_dir/kube-apiserver" && -x "$bin_dir/etcd" && -f "$key_dir/complete" ]]; }

show_stats() {
    if [[ -f "$stats_file" ]]; then
        sed 's/^/build.sh: build stats: /' "$stats_file" >&2
    fi
}

if ready; then
    log "cached binaries for Kubernetes v${k8s_version} (staging ${staging_version})"
    show_stats
    echo "$bin_dir"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/build.lock"
log "waiting for the build lock $cache_root/build.lock"
flock 9

# Another run may have finished the same build while we waited.
if ready; then
    log "built by a concurrent run"
    show_stats
    echo "$bin_dir"
    exit 0
fi

if [[ ! -x /usr/bin/time ]]; then
    log "/usr/bin/time is missing; installing Debian's 'time' package"
    if ! { apt-get install -y time >&2 || { apt-get update >&2 && apt-get install -y time >&2; }; }; then
        log "could not install 'time'; peak memory will not be recorded"
    fi
fi

work="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Two cores and 24 GiB: keep parallel compiles at two so peak memory stays
# bounded; the upstream build needs no cgo.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=2 -trimpath -buildvcs=false -mod=readonly"

log "cold build of kube-apiserver and etcd v${k8s_version} with ${go_version} (this takes many minutes)"
start="$(date +%s)"
(cd "$here" && go mod download) >&2
download_seconds=$(($(date +%s) - start))
for cmd in kube-apiserver etcd; do
    cmd_start="$(date +%s)"
    if [[ -x /usr/bin/time ]]; then
        (cd "$here" && /usr/bin/time -v -o "$work/$cmd.time" \
            go build -ldflags "$ldflags" -o "$work/bin/$cmd" "./cmd/$cmd") >&2
        peak_kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/$cmd.time")"
    else
        (cd "$here" && go build -ldflags "$ldflags" -o "$work/bin/$cmd" "./cmd/$cmd") >&2
        peak_kb=""
    fi
    cmd_seconds=$(($(date +%s) - cmd_start))
    if [[ -n "$peak_kb" ]]; then
        echo "$cmd: ${cmd_seconds}s wall, peak RSS $((peak_kb / 1024)) MiB (largest single process)" >>"$work/stats"
    else
        echo "$cmd: ${cmd_seconds}s wall, peak RSS not measured" >>"$work/stats"
    fi
done
total_seconds=$(($(date +%s) - start))
{
    echo "total: ${total_seconds}s wall on $(nproc) cores, ${go_version}, GOFLAGS=${GOFLAGS}"
    echo "GOCACHE: $(go env GOCACHE) (a warm Go build cache makes this much faster)"
    echo "go mod download: ${download_seconds}s"
    cat "$work/stats"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$work/build-stats.txt"

# Check the stamping before publishing the binaries.
apiserver_version="$("$work/bin/kube-apiserver" --version)"
if [[ "$apiserver_version" != "Kubernetes v${k8s_version}" ]]; then
    log "unexpected kube-apiserver --version: $apiserver_version"
    exit 1
fi
"$work/bin/etcd" --version >&2

# Publish atomically: bin/ and build-stats.txt first, the marker last.
rm -rf "$key_dir"
mkdir -p "$key_dir"
mv "$work/bin" "$bin_dir"
mv "$work/build-stats.txt" "$stats_file"
touch "$key_dir/complete"
log "built into $bin_dir"
show_stats
echo "$bin_dir"
