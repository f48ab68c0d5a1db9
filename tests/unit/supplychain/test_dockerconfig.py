"""Registry credentials from a Docker config file: hosts normalised, secrets never quoted."""

from __future__ import annotations

import base64
import json
import pathlib

import pytest

from webhook.supplychain import dockerconfig, registry


def _auth(pair: str) -> str:
    return base64.b64encode(pair.encode()).decode()


@pytest.mark.parametrize(
    ("auths", "expected"),
    [
        pytest.param(
            {"ghcr.io": {"auth": _auth("ci:s3cret")}},
            {"ghcr.io": registry.Credential("ci", "s3cret")},
            id="auth-field",
        ),
        pytest.param(
            {"https://index.docker.io/v1/": {"auth": _auth("me:pa:ss")}},
            {"docker.io": registry.Credential("me", "pa:ss")},
            id="docker-hub-url",
        ),
        pytest.param(
            {"Registry.Example.com:5000": {"username": "u", "password": "p"}},
            {"registry.example.com:5000": registry.Credential("u", "p")},
            id="username-password",
        ),
    ],
)
def test_credentials_by_host(auths: dict[str, object], expected: dict[str, object]) -> None:
    assert dockerconfig.parse(json.dumps({"auths": auths})) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "not valid JSON", id="not-json"),
        pytest.param("{}", "has no 'auths' object", id="no-auths"),
        pytest.param(
            json.dumps({"auths": {"ghcr.io": {"auth": "!!!s3cret"}}}),
            "auths['ghcr.io'].auth is not base64 'user:password'",
            id="bad-base64",
        ),
        pytest.param(
            json.dumps({"auths": {"ghcr.io": {"auth": _auth("s3cret")}}}),
            "auths['ghcr.io'].auth is not base64 'user:password'",
            id="no-colon",
        ),
        pytest.param(
            json.dumps({"auths": {"ghcr.io": {"identitytoken": "s3cret"}}}),
            "has neither 'auth' nor 'username' and 'password'",
            id="no-credential",
        ),
    ],
)
def test_unusable_files_say_why_without_the_secret(text: str, message: str) -> None:
    with pytest.raises(dockerconfig.DockerConfigError) as caught:
        dockerconfig.parse(text)
    assert message in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_an_unreadable_file_names_the_path(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "absent.json"
    with pytest.raises(dockerconfig.DockerConfigError, match=r"cannot read .*absent\.json"):
        dockerconfig.load(str(missing))


def test_the_old_dockercfg_format_is_the_auths_object_alone() -> None:
    text = json.dumps({"https://ghcr.io": {"auth": _auth("ci:s3cret")}})
    assert dockerconfig.parse(text, legacy=True) == {"ghcr.io": registry.Credential("ci", "s3cret")}
    with pytest.raises(dockerconfig.DockerConfigError) as caught:
        dockerconfig.parse("[]", legacy=True)
    assert "is not a JSON object" in str(caught.value)
