"""kubectl against a real apiserver with Bulkhead registered: what is admitted, what is denied.

Owns: the example workloads through ``kubectl apply`` (admitted, or denied
with the policy, check id and exact field path in kubectl's output), every
pod-bearing kind the registration covers, Warn policies as kubectl
``Warning:`` lines, and server-side dry runs judged alike and storing nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from devcluster import controlplane, registration
from tests.e2e import kubectl, workloads

pytestmark = pytest.mark.cluster

DENIED = f'admission webhook "{registration.WEBHOOK_NAME}" denied the request: Bulkhead denied'


@dataclasses.dataclass(frozen=True)
class Example:
    """One file under manifests/examples/ and what kubectl must show for it."""

    relative: str
    resource: str  # as kubectl prints it: deployment.apps
    name: str
    expected: tuple[str, ...] = ()


GOOD = [
    pytest.param(Example("good/web-deployment.yaml", "deployment.apps", "web"), id="deployment"),
    pytest.param(Example("good/batch-cronjob.yaml", "cronjob.batch", "report"), id="cronjob"),
]


@pytest.mark.usefixtures("bulkhead")
@pytest.mark.parametrize("example", GOOD)
def test_compliant_example_is_admitted(
    control_plane: controlplane.ControlPlane, namespace: str, example: Example
) -> None:
    result = kubectl.apply_file(control_plane, namespace, example.relative)
    assert result.returncode == 0, kubectl.show(result)
    assert f"{example.resource}/{example.name} created" in result.stdout
    assert "Warning:" not in result.stderr
    assert kubectl.stored(control_plane, namespace, example.resource, example.name)


BAD = [
    pytest.param(
        Example(
            "bad/privileged-pod.yaml",
            "pod",
            "node-debugger",
            (
                "policy ClusterContainerPolicy/baseline (profile baseline:latest):",
                "[privileged] spec.containers[0].securityContext.privileged:",
                "[hostNamespaces] spec.hostNetwork:",
                "policy ClusterContainerPolicy/hardening:",
                "[hostPath] spec.volumes[0].hostPath:",
                "policy ClusterContainerPolicy/supply-chain:",
                "[images] spec.containers[0].image:",
            ),
        ),
        id="pod",
    ),
    pytest.param(
        Example(
            "bad/leaky-deployment.yaml",
            "deployment.apps",
            "legacy-api",
            (
                "[pss/capabilities_baseline] spec.template.spec.containers[0].securityContext"
                ".capabilities.add[0]:",
                "[literalSecretEnv] spec.template.spec.containers[0].env[0].value:",
                "[runAsNonRoot] spec.template.spec.initContainers[0].securityContext.runAsUser:",
                "[resources] spec.template.spec.containers[0].resources.limits.memory:",
            ),
        ),
        id="deployment",
    ),
    pytest.param(
        Example(
            "bad/hostpath-cronjob.yaml",
            "cronjob.batch",
            "log-shipper",
            (
                "[pss/hostPathVolumes] spec.jobTemplate.spec.template.spec.volumes[0].hostPath:",
                "[pss/sysctls] spec.jobTemplate.spec.template.spec.securityContext.sysctls[0]"
                ".name:",
                "[resources] spec.jobTemplate.spec.template.spec.containers[0]"
                ".resources.limits.cpu:",
            ),
        ),
        id="cronjob",
    ),
]


@pytest.mark.usefixtures("bulkhead")
@pytest.mark.parametrize("example", BAD)
def test_violating_example_is_denied_with_field_paths(
    control_plane: controlplane.ControlPlane, namespace: str, example: Example
) -> None:
    result = kubectl.apply_file(control_plane, namespace, example.relative)
    assert result.returncode != 0, kubectl.show(result)
    assert "Error from server (Forbidden)" in result.stderr
    assert DENIED in result.stderr, kubectl.show(result)
    for fragment in example.expected:
        assert fragment in result.stderr, f"{fragment!r} missing from:\n{result.stderr}"
    assert "hunter2" not in result.stderr  # a literal secret is never echoed back
    assert not kubectl.stored(control_plane, namespace, example.resource, example.name)


@pytest.mark.usefixtures("bulkhead")
@pytest.mark.parametrize("kind", list(workloads.KINDS))
def test_every_pod_bearing_kind_is_judged(
    control_plane: controlplane.ControlPlane, namespace: str, kind: str
) -> None:
    good = kubectl.apply(
        control_plane, namespace, workloads.wrap(kind, "good", workloads.compliant_spec())
    )
    assert good.returncode == 0, kubectl.show(good)

    bad = kubectl.apply(
        control_plane, namespace, workloads.wrap(kind, "bad", workloads.privileged_spec())
    )
    assert bad.returncode != 0, kubectl.show(bad)
    assert DENIED in bad.stderr, kubectl.show(bad)
    path = workloads.spec_path(kind)
    assert f"[privileged] {path}.containers[0].securityContext.privileged:" in bad.stderr
    assert f'{kind} "{namespace}/bad"' in bad.stderr
    assert not kubectl.stored(control_plane, namespace, kind, "bad")


@pytest.mark.usefixtures("bulkhead")
def test_warn_policy_shows_as_kubectl_warning_and_admits(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    """An nfs volume passes baseline and the Deny policies but not restricted (Warn)."""
    spec = workloads.compliant_spec()
    spec["volumes"] = [{"name": "shared", "nfs": {"server": "nfs.example.internal", "path": "/x"}}]
    result = kubectl.apply(control_plane, namespace, workloads.pod("nfs-user", spec))
    assert result.returncode == 0, kubectl.show(result)
    assert "pod/nfs-user created" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings, kubectl.show(result)
    assert any(
        "ClusterContainerPolicy/restricted-preview: [pss/restrictedVolumes] spec.volumes[0].nfs:"
        in w
        for w in warnings
    ), warnings
    assert kubectl.stored(control_plane, namespace, "pod", "nfs-user")


@pytest.mark.usefixtures("bulkhead")
def test_server_dry_run_is_judged_and_stores_nothing(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    denied = kubectl.apply_file(
        control_plane, namespace, "bad/privileged-pod.yaml", "--dry-run=server"
    )
    assert denied.returncode != 0, kubectl.show(denied)
    assert DENIED in denied.stderr
    assert "[privileged] spec.containers[0].securityContext.privileged:" in denied.stderr
    assert not kubectl.stored(control_plane, namespace, "pod", "node-debugger")

    admitted = kubectl.apply_file(
        control_plane, namespace, "good/web-deployment.yaml", "--dry-run=server"
    )
    assert admitted.returncode == 0, kubectl.show(admitted)
    assert "deployment.apps/web created (server dry run)" in admitted.stdout
    assert not kubectl.stored(control_plane, namespace, "deployment", "web")
