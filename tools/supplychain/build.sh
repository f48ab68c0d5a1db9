#!/usr/bin/env bash
# Build (once) and cache the real `cosign` CLI and the real OCI registry
# (CNCF distribution) that the supply-chain tests run on loopback.
#
# Owns: the pinned versions and cosign's version stamping. The recipe and the
# cache are tools/gobuild.sh's (--install: `go install module/cmd@version`, so
# the modules' own go.mod/go.sum decide the dependencies and the Go checksum
# database verifies every download). The binaries live OUTSIDE the repository,
# in ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/supplychain/<key>/bin/, <key>
# being cosign-<version>-registry-<version>-<hash of the pins, the build flags
# and the Go toolchain version>. A warm run only hashes and prints.
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
set -euo pipefail

cosign_version="v2.6.5"
registry_version="v3.0.0"

exec bash "$(dirname "$0")/../gobuild.sh" --install supplychain \
    "github.com/sigstore/cosign/v2@${cosign_version}" cmd/cosign \
    "-X sigs.k8s.io/release-utils/version.gitVersion=${cosign_version}" \
    "github.com/distribution/distribution/v3@${registry_version}" cmd/registry ""
