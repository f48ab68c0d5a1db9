"""Credentials from a kubeconfig, and the login handed to a client with its own transport.

Requests and watches against the real apiserver run in tests/operator and
tests/audit; here only what a kubeconfig file turns into.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

from webhook import kube


def _kubeconfig(tmp_path: pathlib.Path, user: dict[str, str], *, server: str) -> str:
    (tmp_path / "ca.crt").write_text("not read until a request is sent\n")
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": server, "certificate-authority": "ca.crt"}}
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_a_token_login_is_handed_on_with_its_scheme(tmp_path: pathlib.Path) -> None:
    path = _kubeconfig(tmp_path, {"token": "s3cret-token"}, server="https://127.0.0.1:6443")
    found = kube.credentials(kube.client_configuration(kubeconfig=path))
    assert found.server == "https://127.0.0.1:6443"
    assert found.scheme == "Bearer"
    assert found.token == "s3cret-token"
    assert found.ca_path == str(tmp_path / "ca.crt")
    assert not found.insecure
    assert found.certificate_path is None
    assert found.private_key_path is None
    assert "s3cret-token" not in repr(found)


def test_a_client_certificate_login_is_handed_on_as_files(tmp_path: pathlib.Path) -> None:
    (tmp_path / "client.crt").write_text("certificate\n")
    (tmp_path / "client.key").write_text("key\n")
    path = _kubeconfig(
        tmp_path,
        {"client-certificate": "client.crt", "client-key": "client.key"},
        server="https://127.0.0.2:6443",
    )
    found = kube.credentials(kube.client_configuration(kubeconfig=path))
    assert (found.server, found.scheme, found.token) == ("https://127.0.0.2:6443", None, None)
    assert found.certificate_path == str(tmp_path / "client.crt")
    assert found.private_key_path == str(tmp_path / "client.key")


def test_a_missing_kubeconfig_is_a_config_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(kube.ConfigError, match="cannot load cluster credentials"):
        kube.client_configuration(kubeconfig=str(tmp_path / "absent"))
