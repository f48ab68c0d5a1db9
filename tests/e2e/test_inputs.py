"""Inputs and loading through the real apiserver: namespace labels, zero policies, malformed specs.

Owns: a ``bulkhead serve`` of its own reading policy files (no cluster
access, so it knows of a namespace only the name label the apiserver sets),
registered by loopback URL for the test's own namespace only, and
``kubectl create --dry-run=server`` against it:

* a ``namespaceSelector`` on ``kubernetes.io/metadata.name`` is decided and
  enforced; one on a label the webhook does not have is never matched as if
  absent: a violating pod is refused with a message to retry;
* policy files emptied at run time leave the last good set enforced;
* a malformed pod spec is refused by the apiserver's own decoding before any
  webhook sees it (the webhook's own refusal is in tests/server).
"""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster import controlplane, registration, webhookserver
from tests import selecting_policies
from tests.e2e import kubectl, workloads

pytestmark = pytest.mark.cluster

WEBHOOK = "inputs.bulkhead.dev"


@pytest.fixture
def policies(tmp_path: pathlib.Path, own_namespace: str) -> pathlib.Path:
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "by-name.yaml").write_text(selecting_policies.by_name(own_namespace))
    (directory / "by-env.yaml").write_text(selecting_policies.BY_ENV)
    return directory


@pytest.fixture
def file_webhook(
    control_plane: controlplane.ControlPlane,
    serving_pki: webhookserver.ServingPKI,
    own_namespace: str,
    policies: pathlib.Path,
    tmp_path: pathlib.Path,
) -> Iterator[webhookserver.WebhookServer]:
    server = webhookserver.WebhookServer(
        serving=serving_pki,
        policy_files=[policies],
        log_path=tmp_path / "serve.log",
        extra_args=("--reload-interval=0.2",),
    )
    name = f"inputs-{own_namespace}"
    with server:
        control_plane.apply(
            registration.webhook_configuration(
                name=name,
                webhook_name=WEBHOOK,
                client_config=registration.url_client_config(
                    server.validate_url, ca_pem=serving_pki.ca_pem
                ),
                selector={"matchLabels": {"kubernetes.io/metadata.name": own_namespace}},
            )
        )
        try:
            registration.wait_until_judged(
                control_plane, namespace=own_namespace, webhook_name=WEBHOOK
            )
            yield server
        finally:
            control_plane.kubectl(
                "delete", "validatingwebhookconfiguration", name, "--ignore-not-found"
            )


def _dry_run(
    cp: controlplane.ControlPlane, namespace: str, document: dict[str, Any], *extra: str
) -> kubectl.Result:
    return cp.kubectl(
        "create", "--dry-run=server", "-n", namespace, "-f", "-", *extra,
        input_text=json.dumps(document), check=False,
    )  # fmt: skip


def _host_pid_pod(name: str) -> dict[str, Any]:
    spec = workloads.compliant_spec()
    spec["hostPID"] = True
    return workloads.pod(name, spec)


def test_namespace_selectors_use_only_labels_the_webhook_has(
    control_plane: controlplane.ControlPlane,
    own_namespace: str,
    file_webhook: webhookserver.WebhookServer,
) -> None:
    denied = f'admission webhook "{WEBHOOK}" denied the request'

    by_name = _dry_run(control_plane, own_namespace, registration.violating_pod("priv"))
    assert by_name.returncode != 0, kubectl.show(by_name)
    assert denied in by_name.stderr
    assert "policy ClusterContainerPolicy/by-name:" in by_name.stderr

    undecided = _dry_run(control_plane, own_namespace, _host_pid_pod("host-pid"))
    assert undecided.returncode != 0, kubectl.show(undecided)
    assert denied in undecided.stderr
    assert "retry in a few seconds" in undecided.stderr
    assert "ClusterContainerPolicy/by-env (Deny) would report 1 finding" in undecided.stderr
    assert "labels Bulkhead does not know: env" in undecided.stderr

    fine = _dry_run(control_plane, own_namespace, workloads.pod("fine", workloads.compliant_spec()))
    assert fine.returncode == 0, kubectl.show(fine)


def test_emptied_policy_files_keep_the_last_good_set(
    control_plane: controlplane.ControlPlane,
    own_namespace: str,
    policies: pathlib.Path,
    file_webhook: webhookserver.WebhookServer,
) -> None:
    # by-name last, so the last good set is the one that forbids privileged containers
    for name in ("by-env.yaml", "by-name.yaml"):
        (policies / name).write_text("# emptied\n")

    deadline = time.monotonic() + 15
    while file_webhook.get("/readyz")[0] != 503:
        assert time.monotonic() < deadline, "/readyz never answered 503"
        time.sleep(0.1)
    result = _dry_run(control_plane, own_namespace, registration.violating_pod("still-denied"))
    assert result.returncode != 0, kubectl.show(result)
    assert "policy ClusterContainerPolicy/by-name:" in result.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("securityContext", "privileged"),
        ("securityContext", {"capabilities": ["SYS_ADMIN"]}),
        ("securityContext", {"privileged": "true"}),
    ],
    ids=["securityContext-string", "capabilities-list", "privileged-string"],
)
def test_a_malformed_pod_never_reaches_admission(
    control_plane: controlplane.ControlPlane,
    own_namespace: str,
    file_webhook: webhookserver.WebhookServer,
    field: str,
    value: object,
) -> None:
    pod = registration.violating_pod("malformed")
    pod["spec"]["containers"][0][field] = value
    result = _dry_run(control_plane, own_namespace, pod, "--validate=false")
    assert result.returncode != 0, kubectl.show(result)
    assert "BadRequest" in result.stderr or "cannot unmarshal" in result.stderr, result.stderr
    assert WEBHOOK not in result.stderr
