"""The Bulkhead chart rendered by the real helm, for the chart's tests. Process and file I/O.

Owns: where the chart, its values and schema are; finding ``helm`` (the binary
``tools/kubetools.sh`` installs and caches, as the cluster harness does);
``helm template`` with values given as a mapping (written to a temporary JSON
values file) and its documents parsed; reading values.yaml's leaves; and
looking objects up in a render.
"""

from __future__ import annotations

import copy
import functools
import json
import pathlib
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import yaml

from devcluster import controlplane

REPO: Final = controlplane.REPO_ROOT
CHART: Final = REPO / "charts" / "bulkhead"
VALUES_FILE: Final = CHART / "values.yaml"
SCHEMA_FILE: Final = CHART / "values.schema.json"
RELEASE: Final = "bulkhead"
NAMESPACE: Final = "bulkhead-system"
#: A well-formed digest to render with (nothing is ever pulled in these tests).
DIGEST: Final = "sha256:" + "ab" * 32
#: The values most tests render with: a digest, as a release would run.
BASE: Final[Mapping[str, Any]] = {"image": {"digest": DIGEST}}
#: Lets ServiceMonitors render without the Prometheus Operator's CRDs installed.
MONITORING_API: Final = ("--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
#: Lets prometheusRule.enabled render without the Prometheus Operator's CRDs installed.
RULES_API: Final = ("--api-versions", "monitoring.coreos.com/v1/PrometheusRule")
#: Lets the cert-manager mode render without cert-manager's CRDs installed.
CERT_MANAGER_API: Final = ("--api-versions", "cert-manager.io/v1/Certificate")
#: Both: every optional object can render.
OPTIONAL_APIS: Final = (*MONITORING_API, *RULES_API, *CERT_MANAGER_API)


@functools.cache
def kubetools_dir() -> pathlib.Path:
    """The directory holding the real kubectl and helm (installed once, cached)."""
    result = subprocess.run(
        ["bash", str(REPO / "tools" / "kubetools.sh")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"tools/kubetools.sh exited {result.returncode}:\n{result.stderr}")
    return pathlib.Path(lines[-1])


def helm(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run the real helm with private config/cache dirs (never raises on failure)."""
    with tempfile.TemporaryDirectory(prefix="bulkhead-helm-") as home:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "HELM_CACHE_HOME": f"{home}/cache",
            "HELM_CONFIG_HOME": f"{home}/config",
            "HELM_DATA_HOME": f"{home}/data",
        }
        return subprocess.run(
            [str(kubetools_dir() / "helm"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=env,
        )


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in, maps recursively (as helm merges values)."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def template(
    values: Mapping[str, Any] | None = None,
    *,
    namespace: str = NAMESPACE,
    extra: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """``helm template bulkhead charts/bulkhead`` with ``values`` (no merge with BASE)."""
    with tempfile.TemporaryDirectory(prefix="bulkhead-values-") as directory:
        values_path = pathlib.Path(directory) / "values.json"
        values_path.write_text(json.dumps(values or {}), encoding="utf-8")
        return helm(
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            namespace,
            "--values",
            str(values_path),
            *extra,
        )


def render(
    values: Mapping[str, Any] | None = None,
    *,
    namespace: str = NAMESPACE,
    extra: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The documents the chart renders with BASE plus ``values``; helm errors raise."""
    result = template(merge(BASE, values or {}), namespace=namespace, extra=extra)
    if result.returncode != 0:
        raise AssertionError(f"helm template failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(docs: Sequence[Mapping[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    found = [d for d in docs if d.get("kind") == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind}/{name} in the render"
    return dict(found[0])


def kinds(docs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of every object, in render order."""
    return [(str(d["kind"]), str(d["metadata"]["name"])) for d in docs]


def default_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))
    return loaded


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def leaves(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf; an empty map (nodeSelector: {}) is a leaf."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path, value


def nested(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for the dotted path ``a.b``."""
    out: Any = value
    for key in reversed(path.split(".")):
        out = {key: out}
    result: dict[str, Any] = out
    return result


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment or a Pod."""
    if workload["kind"] == "Pod":
        spec: dict[str, Any] = workload["spec"]
        return spec
    template_spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return template_spec
