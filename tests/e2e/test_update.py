"""UPDATE through the apiserver: objects admitted before a policy existed stay manageable.

Owns: a ``bulkhead serve`` of this test's own, whose policy file is rewritten
while it runs. A violating Deployment is created while no policy covers it;
then the policy file gains the example policies and the webhook reloads it.
Relabelling the Deployment (its pod template unchanged) is still allowed;
changing its image is judged and refused.

The webhook is registered for this test's namespace only (labelled so the
shared registration leaves it alone).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest
import yaml

from devcluster import controlplane, registration, webhookserver
from tests.e2e import kubectl, workloads

pytestmark = pytest.mark.cluster

WEBHOOK_NAME = "update.validate.bulkhead.dev"
PROBE_LABELS = {"e2e.bulkhead.dev/probe": "true"}

#: Before: a policy that only judges probe pods, so the apiserver can show it is wired up.
PROBE_ONLY_POLICY = {
    "apiVersion": "bulkhead.dev/v1alpha1",
    "kind": "ClusterContainerPolicy",
    "metadata": {"name": "probe-only"},
    "spec": {
        "action": "Deny",
        "match": {"objectSelector": {"matchLabels": PROBE_LABELS}},
        "rules": {"privileged": False},
    },
}


def _write_atomically(path: pathlib.Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.new")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


@pytest.fixture
def reloading_webhook(
    control_plane: controlplane.ControlPlane,
    serving_pki: webhookserver.ServingPKI,
    own_namespace: str,
    tmp_path: pathlib.Path,
) -> Iterator[tuple[webhookserver.WebhookServer, pathlib.Path]]:
    """Its own webhook on a probe-only policy file, registered for ``own_namespace``."""
    policy_file = tmp_path / "policies.yaml"
    _write_atomically(policy_file, yaml.safe_dump(PROBE_ONLY_POLICY))
    server = webhookserver.WebhookServer(
        serving=serving_pki, policy_files=[policy_file], log_path=tmp_path / "bulkhead-serve.log"
    )
    probe = registration.violating_pod("probe", labels=PROBE_LABELS)
    with (
        server,
        registration.registered_for(
            control_plane,
            namespace=own_namespace,
            webhook_name=WEBHOOK_NAME,
            validate_url=server.validate_url,
            ca_pem=serving_pki.ca_pem,
            probe=probe,
        ),
    ):
        yield server, policy_file


def test_relabel_is_allowed_and_image_change_is_judged(
    control_plane: controlplane.ControlPlane,
    own_namespace: str,
    reloading_webhook: tuple[webhookserver.WebhookServer, pathlib.Path],
) -> None:
    _, policy_file = reloading_webhook
    created = kubectl.apply_file(control_plane, own_namespace, "bad/leaky-deployment.yaml")
    assert created.returncode == 0, kubectl.show(created)

    examples = [workloads.load(f"policies/{name}.yaml") for name in ("hardening", "supply-chain")]
    _write_atomically(policy_file, yaml.safe_dump_all(examples))
    registration.wait_until_judged(
        control_plane, namespace=own_namespace, webhook_name=WEBHOOK_NAME
    )

    relabel = control_plane.kubectl(
        "label", "deployment", "legacy-api", "-n", own_namespace, "tier=legacy", check=False
    )
    assert relabel.returncode == 0, kubectl.show(relabel)
    annotate = control_plane.kubectl(
        "annotate", "deployment", "legacy-api", "-n", own_namespace, "owner=team-a", check=False
    )
    assert annotate.returncode == 0, kubectl.show(annotate)
    stored = kubectl.get_json(control_plane, own_namespace, "deployment", "legacy-api")
    assert stored["metadata"]["labels"]["tier"] == "legacy"

    new_image = control_plane.kubectl(
        "set", "image", "deployment/legacy-api", "-n", own_namespace, "api=nginx:1.27",
        check=False,
    )  # fmt: skip
    assert new_image.returncode != 0, kubectl.show(new_image)
    assert f'admission webhook "{WEBHOOK_NAME}" denied the request' in new_image.stderr
    assert f'Bulkhead denied Deployment "{own_namespace}/legacy-api"' in new_image.stderr
    assert "[images] spec.template.spec.containers[0].image:" in new_image.stderr
    assert "[runAsNonRoot] spec.template.spec.containers[0].securityContext" in new_image.stderr
    stored = kubectl.get_json(control_plane, own_namespace, "deployment", "legacy-api")
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
