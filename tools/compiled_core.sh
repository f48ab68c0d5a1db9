#!/usr/bin/env bash
# Build (once per content) the package with its pure core compiled by mypyc,
# as the image has it, for the tests and the benchmarks to run against.
#
# Owns: the compiled-core build and its cache.
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/compiled-core/<key>/
#       webhook/   the package: the core's modules as C extensions beside
#                  their sources, the rest as sources (setup.py says which)
# The key hashes the interpreter's version and every file the build compiles
# or configures it (pyproject.toml, setup.py, webhook/), committed or not;
# README.md is copied for the package's metadata but not hashed, so an edit
# of the docs does not cost a rebuild. The newest build only is kept. A cold
# build takes about 80 s (mypyc, then gcc).
#
# Put the directory first on PYTHONPATH to import the compiled package instead
# of the sources (Makefile: test-compiled; benchmarks/server.py --core).
#
# stdout: exactly one line, the directory. Progress goes to stderr.
# Needs: the project's virtualenv (make setup), gcc and Python's headers;
# pip fetches setuptools and mypy into the build's own environment.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
python="$repo/.venv/bin/python"
cache="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/compiled-core"

log() { printf 'compiled-core: %s\n' "$*" >&2; }

inputs() {
    (cd "$repo" && git ls-files --cached --others --exclude-standard -- \
        pyproject.toml setup.py webhook) |
        grep -v -e '__pycache__' -e '\.pyc$' -e '\.so$' | LC_ALL=C sort
}
key="$({ "$python" -c 'import sys; print(sys.version)'; inputs | while IFS= read -r f; do
    if [[ -f $repo/$f ]]; then
        printf '%s %s\n' "$f" "$(sha256sum <"$repo/$f" | cut -c1-64)"
    fi
done; } | sha256sum | cut -c1-16)"
out="$cache/$key"
if [[ -d $out/webhook ]]; then
    log "cached $out"
    echo "$out"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9
if [[ ! -d $out/webhook ]]; then
    work="$(mktemp -d "$cache/build.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    # A copy of the inputs: the build writes its C sources under build/ and
    # nothing lands in the checkout.
    mkdir "$work/src"
    (cd "$repo" && { inputs; echo README.md; } | tar -cf - -T -) | tar -xf - -C "$work/src"
    log "mypyc and gcc (cold: about 80 s)"
    start=$(date +%s)
    BULKHEAD_COMPILE_CORE=1 "$python" -m pip install --quiet --no-deps --no-compile \
        --target "$work/out" "$work/src" >&2
    rm -rf "$work/out/bin" "$out"
    mv "$work/out" "$out"
    log "built $out in $(($(date +%s) - start))s"
    find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name 'build.*' \
        -exec rm -rf {} +
fi
echo "$out"
