"""Services, Ingresses, RBAC objects and Secret env vars judged through the real apiserver.

Owns: a ``bulkhead serve`` of its own with ``object_rules.POLICY``, registered
by loopback URL for the resources the chart adds with ``webhook.objectRules``
(Services, Ingresses, the four RBAC kinds, cluster-scoped ones included) and
for Pods, narrowed to objects carrying ``object_rules.LABEL``. Every case is
created with ``kubectl create --dry-run=server``: the apiserver refuses exactly
the cases with violations, with the message ``bulkhead check`` prints for the
same object offline.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from devcluster import controlplane, registration, webhookserver
from tests import object_rules
from tests.e2e import kubectl
from tests.unit.cli import console

pytestmark = pytest.mark.cluster

WEBHOOK = "objects.bulkhead.dev"


@pytest.fixture
def policy_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "network-and-access.yaml").write_text(object_rules.POLICY)
    return directory


@pytest.fixture
def object_webhook(
    control_plane: controlplane.ControlPlane,
    serving_pki: webhookserver.ServingPKI,
    own_namespace: str,
    policy_dir: pathlib.Path,
    tmp_path: pathlib.Path,
) -> Iterator[webhookserver.WebhookServer]:
    server = webhookserver.WebhookServer(
        serving=serving_pki, policy_files=[policy_dir], log_path=tmp_path / "serve.log"
    )
    [probe] = [c for c in object_rules.CASES if c.id == "service-node-port"]
    with (
        server,
        registration.registered_for(
            control_plane,
            namespace=own_namespace,
            webhook_name=WEBHOOK,
            validate_url=server.validate_url,
            ca_pem=serving_pki.ca_pem,
            probe=object_rules.object_(probe, own_namespace),
            rules=[registration.RULES[0], *registration.OBJECT_RULES.values()],
            object_selector=object_rules.SELECTOR,
        ),
    ):
        yield server


def _offline(tmp_path: pathlib.Path, policy_dir: pathlib.Path, namespace: str) -> dict[str, Any]:
    """``bulkhead check``'s JSON result for every case, by ``kind/name``."""
    manifests = tmp_path / "objects.yaml"
    manifests.write_text(
        yaml.safe_dump_all([object_rules.object_(c, namespace) for c in object_rules.CASES])
    )
    result = console.run(
        "check", "-f", str(manifests), "--policy-file", str(policy_dir), "-o", "json"
    )
    assert result.returncode == 1, result.stderr
    return {f"{r['kind']}/{r['name']}": r for r in json.loads(result.stdout)["results"]}


def test_the_apiserver_refuses_what_bulkhead_check_refuses_with_the_same_message(
    control_plane: controlplane.ControlPlane,
    own_namespace: str,
    policy_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    object_webhook: webhookserver.WebhookServer,
) -> None:
    offline = _offline(tmp_path, policy_dir, own_namespace)
    denied = f'admission webhook "{WEBHOOK}" denied the request'
    for case in object_rules.CASES:
        result = control_plane.kubectl(
            "create", "--dry-run=server", "-n", own_namespace, "-f", "-",
            input_text=json.dumps(object_rules.object_(case, own_namespace)), check=False,
        )  # fmt: skip
        expected = offline[f"{case.kind}/{case.name}"]
        if not case.violations:
            assert result.returncode == 0, f"{case.id}: {kubectl.show(result)}"
            assert expected["allowed"], case.id
            continue
        assert result.returncode != 0, f"{case.id}: {kubectl.show(result)}"
        assert denied in result.stderr, case.id
        for line in expected["message"].splitlines():
            assert line in result.stderr, f"{case.id}: {line!r} not in {result.stderr}"
        for check, path in case.violations:
            assert f"[{check}] {path}: " in result.stderr, case.id


def test_an_update_that_adds_external_ips_is_refused(
    control_plane: controlplane.ControlPlane,
    own_namespace: str,
    object_webhook: webhookserver.WebhookServer,
) -> None:
    [case] = [c for c in object_rules.CASES if c.id == "service-cluster-ip"]
    service = object_rules.object_(case, own_namespace)
    created = kubectl.apply(control_plane, own_namespace, service)
    assert created.returncode == 0, kubectl.show(created)
    service["spec"]["externalIPs"] = ["203.0.113.7"]
    result = kubectl.apply(control_plane, own_namespace, service)
    assert result.returncode != 0, kubectl.show(result)
    assert "[services] spec.externalIPs: " in result.stderr
    assert "CVE-2020-8554" in result.stderr
    stored = kubectl.get_json(control_plane, own_namespace, "service", case.name)
    assert "externalIPs" not in stored["spec"]
