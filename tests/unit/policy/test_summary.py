"""The one-line policy summary the CLI and logs show."""

from __future__ import annotations

from typing import Any

import pytest

from webhook import policy


def document(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    metadata = {"name": "p", "namespace": "team-a"} if kind == "ContainerPolicy" else {"name": "p"}
    return {"apiVersion": "bulkhead.dev/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


@pytest.mark.parametrize(
    ("kind", "spec", "line"),
    [
        pytest.param(
            "ClusterContainerPolicy",
            {"profile": {"level": "restricted"}},
            "ClusterContainerPolicy/p: Deny, profile restricted:latest",
            id="profile",
        ),
        pytest.param(
            "ContainerPolicy",
            {
                "action": "Warn",
                "profile": {"level": "baseline", "version": "v1.30"},
                "rules": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
                "exclude": [{"containers": ["istio-proxy"]}],
            },
            "ContainerPolicy/team-a/p: Warn, profile baseline:v1.30, "
            "rules [readOnlyRootFilesystem, runAsNonRoot], 1 exclusion",
            id="everything",
        ),
        pytest.param(
            "ClusterContainerPolicy",
            {
                "action": "Audit",
                "rules": {"runAsNonRoot": True},
                "exclude": [{"namespaces": ["kube-system"]}, {"usernames": ["bot"]}],
            },
            "ClusterContainerPolicy/p: Audit, rules [runAsNonRoot], 2 exclusions",
            id="rules",
        ),
    ],
)
def test_describe(kind: str, spec: dict[str, Any], line: str) -> None:
    assert policy.describe(policy.compile(document(kind, spec))) == line
