"""Policy files offline: readiness says why not, a broken reload keeps the last good set."""

from __future__ import annotations

import pathlib
from typing import Any

from devcluster import installation, webhookserver
from tests.server import reviews
from tests.server.conftest import Material, StartServer

DENY_PRIVILEGED = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: no-privileged}
spec:
  action: Deny
  rules: {privileged: false}
"""

BROKEN = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: no-privileged}
spec:
  action: Deny
  rules: {privilegd: false}
"""


def _readiness(server: webhookserver.WebhookServer) -> tuple[int, dict[str, Any]]:
    status, detail = server.get_json("/readyz")
    return status, detail


def _allowed(server: webhookserver.WebhookServer, *, privileged: bool) -> bool:
    request = reviews.pod_review(namespace="team", privileged=privileged)
    response = server.review(request)["response"]
    assert response["uid"] == request["request"]["uid"]
    return bool(response["allowed"])


def test_an_invalid_policy_file_at_start_up_is_not_ready_until_fixed(
    tmp_path: pathlib.Path, material: Material, start_server: StartServer
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    policy_file = policies / "privileged.yaml"
    policy_file.write_text(BROKEN)
    server = start_server(material, ["--policy-file", str(policies)])

    status, detail = _readiness(server)
    assert status == 503
    assert detail["ready"] is False
    assert detail["policies"]["loaded"] is False
    error = detail["policies"]["error"]
    assert str(policy_file) in error
    assert "spec.rules.privilegd" in error
    assert any(reason.startswith("policies:") for reason in detail["reasons"])
    # with no usable policy set, nothing is let through
    request = reviews.pod_review(namespace="team")
    response = server.review(request)["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 500
    assert response["uid"] == request["request"]["uid"]

    policy_file.write_text(DENY_PRIVILEGED)
    installation.wait_for(
        lambda: _readiness(server)[0] == 200, timeout=60, what="ready after the fix"
    )
    status, detail = _readiness(server)
    assert detail["policies"] == {
        "loaded": True,
        "count": 1,
        "names": ["ClusterContainerPolicy/no-privileged"],
        "loadedAt": detail["policies"]["loadedAt"],
        "error": None,
    }
    assert _allowed(server, privileged=False) is True
    assert _allowed(server, privileged=True) is False


def test_a_broken_reload_keeps_the_last_good_set_and_says_why(
    tmp_path: pathlib.Path, material: Material, start_server: StartServer
) -> None:
    policy_file = tmp_path / "privileged.yaml"
    policy_file.write_text(DENY_PRIVILEGED)
    server = start_server(material, ["--policy-file", str(policy_file)])
    assert _readiness(server)[0] == 200
    assert _allowed(server, privileged=True) is False

    policy_file.write_text(BROKEN)
    installation.wait_for(
        lambda: _readiness(server)[1]["policies"]["error"],
        timeout=60,
        what="the reload error in /readyz",
    )
    status, detail = _readiness(server)
    assert status == 200  # the last good set is still enforced
    assert "spec.rules.privilegd" in detail["policies"]["error"]
    assert detail["policies"]["count"] == 1
    assert _allowed(server, privileged=True) is False
    assert any(
        line.get("msg") == "policy reload failed; the last good set stays in force"
        for line in server.log_lines()
    )

    policy_file.write_text(DENY_PRIVILEGED.replace("action: Deny", "action: Warn"))
    installation.wait_for(
        lambda: _readiness(server)[1]["policies"]["error"] is None,
        timeout=60,
        what="the fixed file to load",
    )
    assert _allowed(server, privileged=True) is True


def test_a_new_policy_file_in_a_directory_is_picked_up(
    tmp_path: pathlib.Path, material: Material, start_server: StartServer
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    server = start_server(material, ["--policy-file", str(policies), "--profile", "baseline"])
    assert _readiness(server)[1]["policies"]["names"] == ["ClusterContainerPolicy/profile-baseline"]
    # baseline forbids privileged containers too
    assert _allowed(server, privileged=True) is False
    (policies / "extra.yaml").write_text(DENY_PRIVILEGED)
    installation.wait_for(
        lambda: _readiness(server)[1]["policies"]["count"] == 2,
        timeout=60,
        what="the new file to load",
    )


def test_the_restricted_profile_is_enforced_as_a_deny_policy(
    material: Material, start_server: StartServer
) -> None:
    server = start_server(material, ["--profile", "restricted:v1.30"])
    request = reviews.pod_review(namespace="team")
    response = server.review(request)["response"]
    assert response["allowed"] is False
    assert "profile restricted:v1.30" in response["status"]["message"]
    assert "runAsNonRoot" in response["status"]["message"]
