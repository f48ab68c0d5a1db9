"""Which pull Secrets a request's pod spec names: its own, else its ServiceAccount's name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.admission import requests
from webhook import admission


def _pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
    }


@pytest.mark.parametrize(
    ("spec", "names", "account"),
    [
        pytest.param({}, (), "default", id="none-default-account"),
        pytest.param(
            {"imagePullSecrets": [{"name": "a"}, {"name": "b"}, {"name": "a"}]},
            ("a", "b"),
            "default",
            id="in-order-each-once",
        ),
        pytest.param({"serviceAccountName": "builder"}, (), "builder", id="named-account"),
        pytest.param(
            {"imagePullSecrets": [{}, {"name": ""}, {"name": 3}, "x", {"name": "ok"}]},
            ("ok",),
            "default",
            id="unusable-entries-left-out",
        ),
        pytest.param({"imagePullSecrets": "a"}, (), "default", id="not-a-list"),
    ],
)
def test_pod_pull_secrets(spec: dict[str, Any], names: tuple[str, ...], account: str) -> None:
    found = admission.pull_secrets(requests.create(_pod(**spec), kind="Pod", namespace="team"))
    assert found == admission.PullSecrets(namespace="team", names=names, service_account=account)


def test_a_deployment_template_names_them_too() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"imagePullSecrets": [{"name": "regcred"}], **_pod()["spec"]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    found = admission.pull_secrets(requests.create(deployment, kind="Deployment", namespace="t"))
    assert found is not None
    assert found.names == ("regcred",)


def test_an_object_without_a_pod_spec_names_none() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert (
        admission.pull_secrets(requests.create(config_map, kind="ConfigMap", namespace="t")) is None
    )
