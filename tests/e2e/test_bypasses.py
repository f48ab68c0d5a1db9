"""Every bypass of the judging core, judged through the real apiserver (``--dry-run=server``).

Owns: a ``bulkhead serve`` of this module's own, loaded with the policy of
every case in ``tests.bypasses`` (each selects only its own object by label),
registered for one namespace of this module's own as the chart registers it.
Each case's object is created with ``kubectl create --dry-run=server``, so the
apiserver validates it, calls the webhook over HTTPS and reports its verdict.
The UPDATE rule is proven with a real Deployment and ``kubectl patch``.
The same cases run offline in ``tests/unit/cli/test_bypasses.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from devcluster import controlplane, registration, webhookserver
from tests import bypasses
from tests.e2e import conftest, kubectl

pytestmark = pytest.mark.cluster

WEBHOOK_NAME = "bypasses.validate.bulkhead.dev"
PROBE = next(case for case in bypasses.CASES if case.id == "profile-check-own-id")


@pytest.fixture(scope="module")
def judged_namespace(
    control_plane: controlplane.ControlPlane,
    serving_pki: webhookserver.ServingPKI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A namespace judged by a webhook holding every case's policy."""
    folder = tmp_path_factory.mktemp("bypasses")
    policy_file = folder / "policies.yaml"
    policy_file.write_text(yaml.safe_dump_all([case.policy() for case in bypasses.CASES]))
    server = webhookserver.WebhookServer(
        serving=serving_pki, policy_files=[policy_file], log_path=folder / "bulkhead-serve.log"
    )
    key, value = conftest.OWN_REGISTRATION
    with server, control_plane.namespace(labels={key: value}) as namespace:
        with registration.registered_for(
            control_plane,
            namespace=namespace,
            webhook_name=WEBHOOK_NAME,
            validate_url=server.validate_url,
            ca_pem=serving_pki.ca_pem,
            probe=PROBE.object(),
        ):
            yield namespace
        log = (folder / "bulkhead-serve.log").read_text(encoding="utf-8")
        assert bypasses.PASSWORD not in log


@pytest.mark.parametrize("case", bypasses.CASES, ids=lambda c: f"item{c.item}-{c.id}")
def test_admission_verdict(
    control_plane: controlplane.ControlPlane, judged_namespace: str, case: bypasses.Case
) -> None:
    result = control_plane.kubectl(
        "create",
        "--dry-run=server",
        "-n",
        judged_namespace,
        "-f",
        "-",
        input_text=json.dumps(case.object()),
        check=False,
    )
    if not case.denied:
        assert result.returncode == 0, kubectl.show(result)
        return
    assert result.returncode != 0, kubectl.show(result)
    assert f'admission webhook "{WEBHOOK_NAME}" denied the request' in result.stderr
    for text in case.expect:
        assert text in result.stderr, kubectl.show(result)
    assert bypasses.PASSWORD not in result.stderr


def test_update_adding_an_apparmor_annotation_is_judged(
    control_plane: controlplane.ControlPlane, judged_namespace: str
) -> None:
    case = next(c for c in bypasses.CASES if c.id == "apparmor-template")
    admitted = case.object()
    del admitted["spec"]["template"]["metadata"]["annotations"]
    created = kubectl.apply(control_plane, judged_namespace, admitted)
    assert created.returncode == 0, kubectl.show(created)

    def patch(body: dict[str, object]) -> kubectl.Result:
        return control_plane.kubectl(
            "patch", "deployment", case.name, "-n", judged_namespace, "--dry-run=server",
            "--type=merge", "-p", json.dumps(body), check=False,
        )  # fmt: skip

    relabel = patch({"metadata": {"labels": {"tier": "legacy"}}})
    assert relabel.returncode == 0, kubectl.show(relabel)
    other = patch({"spec": {"template": {"metadata": {"annotations": {"owner": "team-a"}}}}})
    assert other.returncode == 0, kubectl.show(other)
    unconfined = {bypasses.APPARMOR_KEY: "unconfined"}
    refused = patch({"spec": {"template": {"metadata": {"annotations": unconfined}}}})
    assert refused.returncode != 0, kubectl.show(refused)
    assert f'admission webhook "{WEBHOOK_NAME}" denied the request' in refused.stderr
    for text in case.expect:
        assert text in refused.stderr, kubectl.show(refused)
