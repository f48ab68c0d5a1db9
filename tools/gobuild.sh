#!/usr/bin/env bash
# Build (once) and cache Go main packages: the mains of one of the project's Go
# modules (tools/controlplane, tools/node, tools/coredns, tools/fixedanswer), or
# published mains at pinned versions (tools/supplychain: cosign and the registry).
#
# Usage: tools/gobuild.sh <module dir> <cache name> <cmd>...
#          builds <module dir>/cmd/<cmd> for each <cmd>, with the module's go.mod
#          and go.sum (none for a module of the standard library only, such as
#          tools/fixedanswer).
#        tools/gobuild.sh --install <cache name> [<module>@<version> <package dir> <ldflags>]...
#          `go install <module>/<package dir>@<version>` for each triple, adding
#          <ldflags> (may be empty) to the shared "-s -w"; the binary is named
#          after the package dir (<package dir> "." is the module's root
#          package, named after the module path less any /vN suffix). The
#          published module's own go.mod/go.sum decide the dependencies and
#          the Go checksum database verifies every download.
#
# Owns: the build recipe (flags, version stamping) and the binary cache. The
# binaries live OUTSIDE the repository, in
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/<cache name>/<key>/bin/
# For a wrapper module, <key> is the release (the k8s.io/kubernetes version when
# the module requires it, else the version of its first requirement) plus a hash
# of everything that decides the output (go.mod, go.sum, the main packages, the
# build flags and the Go toolchain version). With --install, <key> is
# <cmd>-<version> for each main plus a hash of the module versions, the build
# flags and the Go toolchain version. A warm run only hashes and prints.
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
# Two concurrent runs of the same cache never build at once (flock on a lock
# file in the cache). The cold build prints its progress and records its wall
# time and peak memory in build-stats.txt next to bin/.
set -euo pipefail

usage() {
    echo "usage: gobuild.sh <module dir> <cache name> <cmd>..." >&2
    echo "       gobuild.sh --install <cache name> [<module>@<version> <package dir> <ldflags>]..." >&2
    exit 2
}

ldflags="-s -w"
k8s_version=""
if [[ "${1:-}" == "--install" ]]; then
    (($# >= 5 && ($# - 2) % 3 == 0)) || usage
    mode=install
    cache_name="$2"
    shift 2
    targets=() cmds=() versions=() extra_ldflags=() release=""
    while (($#)); do
        if [[ "$2" == . ]]; then
            # the module's root package: named after the module path without a /vN suffix
            cmd="$(basename "$(sed 's#/v[0-9][0-9]*$##' <<<"${1%@*}")")"
            targets+=("$1")
        else
            cmd="$(basename "$2")"
            targets+=("${1%@*}/$2@${1##*@}")
        fi
        versions+=("$1")
        cmds+=("$cmd")
        release+="${release:+-}${cmd}-${1##*@}"
        # Every flag any build gets is part of the key.
        [[ -z "$3" ]] || ldflags+=" $3"
        extra_ldflags+=("$3")
        shift 3
    done
else
    (($# >= 3)) || usage
    mode=module
    module="$(cd "$1" && pwd)"
    cache_name="$2"
    shift 2
    cmds=("$@")
fi

log() { printf '%s: %s\n' "$cache_name" "$*" >&2; }

if ! command -v go >/dev/null; then
    log "the Go toolchain (go) is not on PATH; it is needed to build ${cmds[*]}"
    exit 1
fi

if [[ "$mode" == module ]]; then
    k8s_version="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes v\([0-9][0-9.]*\)$/\1/p' "$module/go.mod" | head -n1)"
    if [[ -n "$k8s_version" ]]; then
        # Version stamping: /version of the servers and `--version` of the
        # binaries read these package variables, which a plain `go build` leaves
        # at v0.0.0.
        k8s_minor="$(cut -d. -f2 <<<"$k8s_version")"
        for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
            ldflags+=" -X ${pkg}.gitVersion=v${k8s_version}"
            ldflags+=" -X ${pkg}.gitMajor=1"
            ldflags+=" -X ${pkg}.gitMinor=${k8s_minor}"
            ldflags+=" -X ${pkg}.gitTreeState=clean"
        done
        release="v${k8s_version}"
    else
        release="$(sed -n 's/^require[[:space:]]\+[^[:space:](]\+[[:space:]]\+\(v[^[:space:]]\+\)$/\1/p' "$module/go.mod" | head -n1)"
        if [[ -z "$release" ]] && ! grep -q '^require' "$module/go.mod"; then
            release="local"  # the standard library only: the hash below is the whole key
        fi
    fi
    if [[ -z "$release" ]]; then
        log "cannot tell the release from $module/go.mod"
        exit 1
    fi
fi

go_version="$(go env GOVERSION)"
key_hash="$(
    {
        if [[ "$mode" == module ]]; then
            cat "$module/go.mod"
            [[ ! -f "$module/go.sum" ]] || cat "$module/go.sum"
            find "$module/cmd" -name '*.go' -type f | LC_ALL=C sort | xargs cat
        else
            printf '%s\n' "${versions[@]}"
        fi
        printf 'ldflags=%s\ngo=%s\ncgo=0\n' "$ldflags" "$go_version"
    } | sha256sum | cut -c1-16
)"
cache_root="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/${cache_name}"
key_dir="$cache_root/${release}-${key_hash}"
bin_dir="$key_dir/bin"
stats_file="$key_dir/build-stats.txt"

ready() {
    local cmd
    for cmd in "${cmds[@]}"; do
        [[ -x "$bin_dir/$cmd" ]] || return 1
    done
    [[ -f "$key_dir/complete" ]]
}

show_stats() {
    if [[ -f "$stats_file" ]]; then
        sed 's/^/build stats: /' "$stats_file" | while IFS= read -r line; do log "$line"; done
    fi
}

if ready; then
    log "cached ${cmds[*]} ${release}"
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
# bounded; none of the builds needs cgo.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=2 -trimpath -buildvcs=false"

# timed <cmd> <what it measures> <command>...: run it, add its wall time and
# peak memory to the stats.
timed() {
    local cmd="$1" what="$2" cmd_start peak_kb cmd_seconds
    shift 2
    cmd_start="$(date +%s)"
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -v -o "$work/$cmd.time" "$@" >&2
        peak_kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/$cmd.time")"
    else
        "$@" >&2
        peak_kb=""
    fi
    cmd_seconds=$(($(date +%s) - cmd_start))
    if [[ -n "$peak_kb" ]]; then
        echo "$cmd: ${cmd_seconds}s wall${what}, peak RSS $((peak_kb / 1024)) MiB (largest single process)" >>"$work/stats"
    else
        echo "$cmd: ${cmd_seconds}s wall${what}, peak RSS not measured" >>"$work/stats"
    fi
    log "$(tail -n1 "$work/stats")"
}

log "cold build of ${cmds[*]} ${release} with ${go_version} (this takes minutes)"
start="$(date +%s)"
if [[ "$mode" == module ]]; then
    GOFLAGS+=" -mod=readonly"
    (cd "$module" && go mod download) >&2
    echo "go mod download: $(($(date +%s) - start))s" >>"$work/stats"
    log "$(tail -n1 "$work/stats")"
    for i in "${!cmds[@]}"; do
        log "building ${cmds[i]} ($((i + 1)) of ${#cmds[@]}, $(($(date +%s) - start))s so far)"
        (cd "$module" && timed "${cmds[i]}" "" \
            go build -ldflags "$ldflags" -o "$work/bin/${cmds[i]}" "./cmd/${cmds[i]}")
    done
else
    export GOBIN="$work/bin"
    for i in "${!cmds[@]}"; do
        log "installing ${targets[i]} ($((i + 1)) of ${#cmds[@]}, $(($(date +%s) - start))s so far)"
        timed "${cmds[i]}" " (download + build)" \
            go install -ldflags "-s -w${extra_ldflags[i]:+ ${extra_ldflags[i]}}" "${targets[i]}"
    done
fi
total_seconds=$(($(date +%s) - start))
{
    echo "total: ${total_seconds}s wall on $(nproc) cores, ${go_version}, GOFLAGS=${GOFLAGS}"
    echo "GOCACHE: $(go env GOCACHE) (a warm Go build cache makes this much faster)"
    cat "$work/stats"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$work/build-stats.txt"

# Check the stamping before publishing the binaries.
if [[ -n "$k8s_version" ]]; then
    version="$("$work/bin/${cmds[0]}" --version)"
    if [[ "$version" != "Kubernetes v${k8s_version}" ]]; then
        log "unexpected ${cmds[0]} --version: $version"
        exit 1
    fi
fi
for cmd in "${cmds[@]}"; do
    log "$cmd --version: $("$work/bin/$cmd" --version 2>&1 | head -n1)"
done

# Publish atomically: bin/ and build-stats.txt first, the marker last.
rm -rf "$key_dir"
mkdir -p "$key_dir"
mv "$work/bin" "$bin_dir"
mv "$work/build-stats.txt" "$stats_file"
touch "$key_dir/complete"
log "built into $bin_dir"
show_stats
echo "$bin_dir"
