"""The kubectl calls the end-to-end tests make, and their output made readable.

Owns: ``kubectl apply`` of an example file or an object (never raising, so a
test can look at a refusal), whether an object is stored, and a printable
summary of a kubectl run for assertion messages. I/O: runs the real kubectl
through a ``ControlPlane``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

from devcluster import controlplane
from tests.e2e import workloads

Result = subprocess.CompletedProcess[str]


def apply_file(cp: controlplane.ControlPlane, namespace: str, relative: str, *extra: str) -> Result:
    """``kubectl apply -f manifests/examples/<relative>`` in ``namespace``."""
    path = workloads.EXAMPLES / relative
    return cp.kubectl("apply", "-n", namespace, "-f", str(path), *extra, check=False)


def apply(
    cp: controlplane.ControlPlane, namespace: str, document: Mapping[str, Any], *extra: str
) -> Result:
    """``kubectl apply -f -`` of one object in ``namespace``."""
    return cp.kubectl(
        "apply", "-n", namespace, "-f", "-", *extra, input_text=json.dumps(document), check=False
    )


def stored(cp: controlplane.ControlPlane, namespace: str, kind: str, name: str) -> bool:
    """Whether the apiserver holds ``kind/name`` (any error but NotFound fails)."""
    result = cp.kubectl("get", kind, name, "-n", namespace, "-o", "name", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
    return result.returncode == 0


def get_json(cp: controlplane.ControlPlane, namespace: str, kind: str, name: str) -> Any:
    """``kubectl get -o json`` of one object, decoded."""
    return json.loads(cp.kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)


def show(result: Result) -> str:
    """A kubectl run as text for an assertion message."""
    return f"rc={result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
