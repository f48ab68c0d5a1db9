"""Ephemeral containers, added the way ``kubectl debug`` adds them, are judged.

Owns: the ``pods/ephemeralcontainers`` subresource through the real kubectl:
``kubectl debug --profile=sysadmin`` (privileged) and a raw
``kubectl patch --subresource=ephemeralcontainers`` are refused with the
ephemeral container's field path, and a debug container that meets every
policy is added. No kubelet runs: the pod is stored, the containers never start.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from devcluster import controlplane, registration
from tests.e2e import kubectl, workloads

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("bulkhead")]

DEBUG_IMAGE = f"ghcr.io/acme/debug@{workloads.DIGEST}"
DENIED = f'admission webhook "{registration.WEBHOOK_NAME}" denied the request: Bulkhead denied'


def _target_pod(cp: controlplane.ControlPlane, namespace: str) -> str:
    result = kubectl.apply(cp, namespace, workloads.pod("target", workloads.compliant_spec()))
    assert result.returncode == 0, kubectl.show(result)
    return "target"


def _ephemeral_names(cp: controlplane.ControlPlane, namespace: str, pod: str) -> list[str]:
    stored = kubectl.get_json(cp, namespace, "pod", pod)
    return [c["name"] for c in stored["spec"].get("ephemeralContainers", [])]


def test_kubectl_debug_sysadmin_is_denied(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    pod = _target_pod(control_plane, namespace)
    result = control_plane.kubectl(
        "debug", pod, "-n", namespace, f"--image={DEBUG_IMAGE}",
        "--profile=sysadmin", "--container=rootshell",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0, kubectl.show(result)
    assert DENIED in result.stderr, kubectl.show(result)
    assert f'Pod "{namespace}/{pod}"' in result.stderr
    assert 'container "rootshell" (spec.ephemeralContainers[0])' in result.stderr
    assert "[privileged] spec.ephemeralContainers[0].securityContext.privileged:" in result.stderr
    assert _ephemeral_names(control_plane, namespace, pod) == []


def test_raw_ephemeralcontainers_patch_is_denied(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    pod = _target_pod(control_plane, namespace)
    patch = {
        "spec": {
            "ephemeralContainers": [
                {
                    "name": "sneaky",
                    "image": DEBUG_IMAGE,
                    "securityContext": {"capabilities": {"add": ["SYS_PTRACE", "SYS_ADMIN"]}},
                }
            ]
        }
    }
    result = control_plane.kubectl(
        "patch", "pod", pod, "-n", namespace, "--subresource=ephemeralcontainers",
        "--type=strategic", "-p", json.dumps(patch),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0, kubectl.show(result)
    assert DENIED in result.stderr, kubectl.show(result)
    assert (
        "[pss/capabilities_baseline] spec.ephemeralContainers[0].securityContext.capabilities.add"
        in result.stderr
    )
    assert _ephemeral_names(control_plane, namespace, pod) == []


def test_compliant_debug_container_is_added(
    control_plane: controlplane.ControlPlane, namespace: str, tmp_path: pathlib.Path
) -> None:
    pod = _target_pod(control_plane, namespace)
    # --profile=restricted sets everything but a read-only root filesystem.
    custom = tmp_path / "debug-container.json"
    custom.write_text(json.dumps({"securityContext": {"readOnlyRootFilesystem": True}}))
    result = control_plane.kubectl(
        "debug", pod, "-n", namespace, f"--image={DEBUG_IMAGE}",
        "--profile=restricted", f"--custom={custom}", "--container=inspect",
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, kubectl.show(result)
    assert "Warning:" not in result.stderr
    assert _ephemeral_names(control_plane, namespace, pod) == ["inspect"]
