#!/usr/bin/env bash
# Install (once) and cache promtool, which checks and unit-tests the chart's
# Prometheus alerting rules (tests/monitoring).
#
# Owns: where promtool comes from and where it is cached.
# Source: Debian's `prometheus` package (bookworm), fetched with
# `apt-get download` and unpacked with `dpkg-deb -x`: only its static
# promtool binary is kept. The package is never installed, so no Prometheus
# service is set up or started and nothing outside the cache changes.
# Cache, outside the repository:
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/promtool/<version>/promtool
#
# stdout: exactly one line, the promtool path. Everything else goes to stderr.
# Concurrent runs are serialised with flock; a warm run only checks and prints.
set -euo pipefail

version="2.42.0+ds-5+deb12u1"
cache_root="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/promtool"
key_dir="$cache_root/${version//+/_}"
binary="$key_dir/promtool"

log() { printf 'promtool.sh: %s\n' "$*" >&2; }
ready() { [[ -x "$binary" ]] && "$binary" --version >/dev/null 2>&1; }

if ready; then
    echo "$binary"
    exit 0
fi
mkdir -p "$cache_root"
exec 9>"$cache_root/install.lock"
flock 9
if ready; then
    echo "$binary"
    exit 0
fi

work=$(mktemp -d "$cache_root/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download "prometheus=$version" >&2 2>"$work/download.log"; then
    cat "$work/download.log" >&2
    if [[ $(id -u) != 0 ]]; then
        log "could not download prometheus=$version; run as root once: apt-get update"
        exit 1
    fi
    log "refreshing the package lists"
    apt-get update -q >&2
    apt-get download "prometheus=$version" >&2
fi
dpkg-deb -x prometheus_*.deb unpacked
mkdir -p "$key_dir"
install -m 0755 unpacked/usr/bin/promtool "$binary.tmp"
mv "$binary.tmp" "$binary"
log "promtool $("$binary" --version 2>&1 | head -n 1)"
echo "$binary"
