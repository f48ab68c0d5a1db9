"""Zero policies never means "allow everything": no start, and a reload to nothing is not ready."""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from devcluster import installation, webhookserver
from tests.server import reviews
from tests.server.conftest import Material, StartServer
from tests.server.test_readiness import DENY_PRIVILEGED


@pytest.mark.parametrize(
    ("files", "given"),
    [
        ({"p.yaml": ""}, "p.yaml"),
        ({"p.yaml": "# policies are added by the platform team\n"}, "p.yaml"),
        ({}, "policies"),
    ],
    ids=["empty-file", "comment-only", "empty-directory"],
)
def test_serve_refuses_to_start_without_a_policy(
    tmp_path: pathlib.Path, material: Material, files: dict[str, str], given: str
) -> None:
    (tmp_path / "policies").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [
            *webhookserver.bulkhead_command(),
            "serve",
            "--address",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-cert-file",
            str(material.cert_file),
            "--tls-private-key-file",
            str(material.key_file),
            "--policy-file",
            str(tmp_path / given),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no policy to enforce" in result.stderr
    assert "would admit everything" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reload_to_no_policy_keeps_the_last_good_set_and_is_not_ready(
    tmp_path: pathlib.Path, material: Material, start_server: StartServer
) -> None:
    policy_file = tmp_path / "privileged.yaml"
    policy_file.write_text(DENY_PRIVILEGED)
    server = start_server(material, ["--policy-file", str(policy_file)])
    assert server.get_json("/readyz")[0] == 200

    policy_file.write_text("# emptied by mistake\n")
    installation.wait_for(
        lambda: server.get_json("/readyz")[0] == 503, timeout=60, what="not ready"
    )
    detail = server.get_json("/readyz")[1]
    assert detail["policies"]["count"] == 1
    assert "no policy to enforce" in detail["policies"]["error"]
    assert any("no policy to enforce" in reason for reason in detail["reasons"])
    response = server.review(reviews.pod_review(namespace="team", privileged=True))["response"]
    assert response["allowed"] is False  # the last good set is still enforced
    assert any(
        line.get("msg")
        == "policy files hold no policy; the last good set stays in force; not ready"
        for line in server.log_lines()
    )

    policy_file.write_text(DENY_PRIVILEGED)
    installation.wait_for(
        lambda: server.get_json("/readyz")[0] == 200, timeout=60, what="ready again"
    )
