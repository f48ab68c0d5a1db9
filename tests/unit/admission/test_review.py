"""AdmissionReview parsing and responses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from webhook.admission import review

GOOD: dict[str, Any] = {
    "apiVersion": "admission.k8s.io/v1",
    "kind": "AdmissionReview",
    "request": {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "namespace": "team-a",
        "operation": "CREATE",
        "userInfo": {"username": "alice", "groups": ["devs", "system:authenticated"]},
        "object": {"metadata": {"generateName": "web-"}, "spec": {}},
        "dryRun": True,
    },
}


def _with(path: str, value: object) -> dict[str, Any]:
    body = copy.deepcopy(GOOD)
    node = body
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return body


_DELETE = object()


def test_parse_reads_the_request() -> None:
    req = review.parse(GOOD)
    assert (req.uid, req.kind, req.group, req.resource, req.operation) == (
        "705ab4f5-6393-11e8-b7cc-42010a800002",
        "Deployment",
        "apps",
        "deployments",
        "CREATE",
    )
    assert (req.namespace, req.name, req.username, req.groups, req.dry_run) == (
        "team-a",
        "web-",
        "alice",
        ("devs", "system:authenticated"),
        True,
    )
    assert req.label == 'Deployment "team-a/web-"'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([], "JSON object"),
        (_with("apiVersion", "admission.k8s.io/v1beta1"), "apiVersion"),
        (_with("kind", "Review"), "kind must be AdmissionReview"),
        (_with("request", _DELETE), "request is required"),
        (_with("request.uid", _DELETE), "request.uid is required"),
        (_with("request.uid", ""), "must not be empty"),
        (_with("request.uid", 7), "request.uid must be a string"),
        (_with("request.kind", "Pod"), "request.kind"),
        (_with("request.operation", "PATCH"), "request.operation"),
        (_with("request.object", _DELETE), "request.object is required for CREATE"),
        (_with("request.object", [1]), "request.object must be an object"),
        (_with("request.userInfo.groups", "admins"), "groups"),
        (_with("request.dryRun", "yes"), "dryRun"),
    ],
    ids=[
        "not-an-object",
        "v1beta1",
        "wrong-kind",
        "no-request",
        "no-uid",
        "empty-uid",
        "uid-not-string",
        "kind-not-object",
        "bad-operation",
        "create-without-object",
        "object-not-object",
        "groups-not-list",
        "dry-run-not-bool",
    ],
)
def test_parse_refuses(body: object, error: str) -> None:
    with pytest.raises(review.ReviewError, match=error):
        review.parse(body)


def test_delete_needs_no_object() -> None:
    body = _with("request.operation", "DELETE")
    del body["request"]["object"]
    assert review.parse(body).object is None


def test_uid_of_survives_garbage() -> None:
    assert review.uid_of(GOOD) == GOOD["request"]["uid"]
    assert review.uid_of({"request": []}) == ""
    assert review.uid_of(None) == ""


def test_response_shapes() -> None:
    denied = review.response("u1", allowed=False, code=403, message="no", warnings=("w",))
    assert denied == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {
            "uid": "u1",
            "allowed": False,
            "status": {"code": 403, "message": "no", "reason": "Forbidden"},
            "warnings": ["w"],
        },
    }
    allowed = review.response("u2", allowed=True, audit_annotations={"violations": "[]"})
    assert allowed["response"] == {
        "uid": "u2",
        "allowed": True,
        "auditAnnotations": {"violations": "[]"},
    }
    assert "patch" not in allowed["response"]
