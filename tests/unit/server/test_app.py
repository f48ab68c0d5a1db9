"""The Flask app through ``create_app`` and Flask's test client (no sockets)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import flask
import flask.testing
import pytest

from webhook import admission, policy
from webhook.server import create_app, loaded, settings

POLICY = {
    "apiVersion": "bulkhead.dev/v1alpha1",
    "kind": "ClusterContainerPolicy",
    "metadata": {"name": "no-privileged"},
    "spec": {"action": "Deny", "rules": {"privileged": False}},
}


def _settings(**overrides: Any) -> settings.Settings:
    return settings.Settings(tls_cert_file="/c", tls_private_key_file="/k", **overrides)


def _state(*, with_policy: bool = True) -> loaded.State:
    held = loaded.State()
    if with_policy:
        compiled = policy.compile(POLICY, latest_minor=settings.DEFAULT_LATEST_MINOR)
        held.policies_loaded((compiled,), at=datetime.datetime.now(datetime.UTC))
    return held


def _review(*, privileged: bool = False, uid: str = "u-1") -> dict[str, Any]:
    security = {"privileged": True} if privileged else {}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "team",
            "name": "web",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "team"},
                "spec": {"containers": [{"name": "c", "image": "x", "securityContext": security}]},
            },
        },
    }


def _last_log_line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(capsys.readouterr().err.splitlines()[-1])
    return line


def _client(app: flask.Flask) -> flask.testing.FlaskClient:
    return app.test_client()


def _recorded(app: flask.Flask) -> list[tuple[Any, ...]]:
    """The metric events the app recorded since the last call (what a worker ships)."""
    rt = app.extensions["bulkhead"]
    return list(rt.metrics.take())


def _post(client: flask.testing.FlaskClient, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_a_denial_is_403_inside_an_http_200(capsys: pytest.CaptureFixture[str]) -> None:
    client = _client(create_app(_settings(), _state()))
    response = _post(client, "/validate", _review(privileged=True))
    assert response.status_code == 200
    body = response.get_json()
    assert body["response"]["uid"] == "u-1"
    assert body["response"]["allowed"] is False
    assert body["response"]["status"]["code"] == 403
    line = _last_log_line(capsys)
    assert line["msg"] == "review"
    assert line["outcome"] == "denied"


def test_an_error_inside_the_decision_denies_with_500_and_echoes_the_uid(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> admission.Decision:
        raise KeyError("a value from the object")

    monkeypatch.setattr(admission, "decide", broken)
    app = create_app(_settings(), _state())
    client = _client(app)
    for _ in range(2):  # and the app keeps answering afterwards
        response = _post(client, "/validate", _review(uid="u-500"))
        assert response.status_code == 200
        answer = response.get_json()["response"]
        assert answer["uid"] == "u-500"
        assert answer["allowed"] is False
        assert answer["status"]["code"] == 500
        assert "internal error (KeyError)" in answer["status"]["message"]
        assert "a value from the object" not in answer["status"]["message"]
    line = _last_log_line(capsys)
    assert line["outcome"] == "error"


def test_without_a_policy_set_nothing_is_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    held = _state(with_policy=False)
    held.policies_failed("policies.yaml: invalid policy: spec.rules.x: unknown field")
    client = _client(create_app(_settings(), held))
    answer = _post(client, "/validate", _review()).get_json()["response"]
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 500
    assert "no policy set is loaded" in answer["status"]["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "unknown field" in ready.get_json()["policies"]["error"]


def test_the_noop_endpoint_exists_only_when_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    off = _client(create_app(_settings(), _state()))
    assert _post(off, "/noop", _review(privileged=True)).status_code == 404
    on = _client(create_app(_settings(enable_noop_endpoint=True), _state()))
    answer = _post(on, "/noop", _review(privileged=True)).get_json()["response"]
    assert answer == {"uid": "u-1", "allowed": True}


def test_errors_flask_raises_are_json_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    client = _client(create_app(_settings(), _state()))
    response = client.get("/validate")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.get_json()["response"]["allowed"] is False
    assert client.get("/nope").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "content_type", "status"),
    [
        ("HEAD", "/validate", "application/json", 405),
        ("PUT", "/validate", "application/json", 405),
        ("POST", "/validate", "text/plain", 415),
        ("POST", "/validate/", "application/json", 404),
        ("POST", "/VALIDATE", "application/json", 404),
    ],
    ids=["HEAD", "PUT", "text/plain", "trailing slash", "upper case"],
)
def test_refusals_look_the_same_on_both_paths(
    capsys: pytest.CaptureFixture[str], method: str, path: str, content_type: str, status: int
) -> None:
    """``/validate`` is answered without Flask; its refusals match Flask's in status and body."""
    app = create_app(_settings(), _state())
    client = _client(app)
    response = client.open(
        path, method=method, data=json.dumps(_review()), content_type=content_type
    )
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    if method != "HEAD":
        body = json.loads(response.get_data())
        assert body["response"] == {
            "uid": "",
            "allowed": False,
            "status": {
                "code": status,
                "message": body["response"]["status"]["message"],
                "reason": "",
            },
        }
    if status == 405:
        assert response.headers["Allow"] == "POST"
    assert _recorded(app) == [("refused", status)]


def test_an_unexpected_error_on_the_review_path_is_a_json_500(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(body: object) -> admission.Request:
        raise KeyError("a value from the object")

    monkeypatch.setattr(admission, "parse", broken)
    client = _client(create_app(_settings(), _state()))
    response = _post(client, "/validate", _review())
    assert response.status_code == 500
    assert response.get_json()["response"]["allowed"] is False
    assert "a value from the object" not in response.get_data(as_text=True)
    assert _post(client, "/readyz", {}).status_code == 405  # Flask still answers the rest


def test_a_failing_view_is_a_json_500(capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(_settings(), _state())

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = _client(app).get("/boom")
    assert response.status_code == 500
    assert response.get_json()["response"]["allowed"] is False


def test_two_apps_record_separately_and_reviews_are_recorded_by_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = create_app(_settings(), _state())
    second = create_app(_settings(), _state())
    _post(_client(first), "/validate", _review(privileged=True))
    assert _recorded(second) == []
    [event] = _recorded(first)
    assert event[:3] == ("review", "denied", "Pod")
    assert event[4] == (("ClusterContainerPolicy/no-privileged", "privileged", "Deny", 1),)
    assert _recorded(first) == []  # taken once


def test_an_unknown_kind_is_recorded_as_other(capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(_settings(), _state())
    review = _review()
    review["request"]["kind"]["kind"] = "Garbage" * 100
    _post(_client(app), "/validate", review)
    [event] = _recorded(app)
    assert event[:3] == ("review", "skipped", "other")
