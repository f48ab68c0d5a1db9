#!/usr/bin/env bash
# Build (once) and cache vegeta, the constant-rate HTTP load generator that
# benchmarks/server.py uses for latency at a fixed rate: it sends requests
# evenly spaced in time whatever the answers' latency (an open loop), where
# wrk's connections each wait for an answer before the next request.
#
# Owns: the pinned version. The recipe and the cache are tools/gobuild.sh's
# (--install: `go install module@version`, the module's own go.mod/go.sum
# decide the dependencies and the Go checksum database verifies every
# download). The binary lives OUTSIDE the repository, in
# ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/vegeta/<key>/bin/vegeta.
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
set -euo pipefail

version="v12.13.0"

exec bash "$(dirname "$0")/gobuild.sh" --install vegeta \
    "github.com/tsenart/vegeta/v12@${version}" . ""
