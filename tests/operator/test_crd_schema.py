"""The generated CRDs on the real apiserver: what the schema refuses, accepts and shows.

Every case of ``specs.INVALID`` is created as kubectl would (strict field
validation) and must be refused with the case's message; every case of
``specs.VALID`` is created, read back and deleted. ``kubectl get ccp``
shows readable columns and ``kubectl explain`` documents the fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from devcluster import controlplane, installation
from tests.operator import specs

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def schema_namespace(crds: controlplane.ControlPlane) -> Iterator[str]:
    with crds.namespace() as name:
        yield name


def _create(
    cp: controlplane.ControlPlane, case: specs.Case, *, name: str, namespace: str
) -> tuple[int, dict[str, object]]:
    document = case.document(name, namespace)
    if case.kind == specs.CLUSTER:
        path = f"{installation.GROUP_PATH}/clustercontainerpolicies"
    else:
        path = f"{installation.GROUP_PATH}/namespaces/{namespace}/containerpolicies"
    status, body = cp.request(
        "POST", f"{path}?fieldValidation=Strict", body=json.dumps(document).encode()
    )
    return status, json.loads(body)


@pytest.mark.parametrize("case", specs.INVALID, ids=lambda c: c.id)
def test_schema_refuses(
    crds: controlplane.ControlPlane, schema_namespace: str, case: specs.Case
) -> None:
    status, body = _create(crds, case, name=f"invalid-{case.id}", namespace=schema_namespace)
    assert status in (400, 422), body
    assert case.message is not None
    assert case.message in str(body.get("message")), body.get("message")


@pytest.mark.parametrize("case", specs.VALID, ids=lambda c: c.id)
def test_schema_accepts(
    crds: controlplane.ControlPlane, schema_namespace: str, case: specs.Case
) -> None:
    name = f"valid-{case.id}"
    status, body = _create(crds, case, name=name, namespace=schema_namespace)
    assert status == 201, body
    stored = body["spec"]
    assert isinstance(stored, dict)
    assert stored.get("action", "Deny") == (case.spec.get("action") or "Deny")
    path = installation.policy_path(case.kind, name, schema_namespace)
    deleted, _ = crds.request("DELETE", path)
    assert deleted == 200


def test_there_are_enough_cases() -> None:
    assert len(specs.INVALID) >= 40
    assert len(specs.VALID) >= 20


def test_kubectl_get_shows_columns(crds: controlplane.ControlPlane) -> None:
    name = "columns-ccp"
    crds.apply(
        specs.Case("columns", {"action": "Warn", "profile": {"level": "restricted"}}).document(name)
    )
    try:
        table = crds.kubectl("get", "ccp", name).stdout.splitlines()
        assert table[0].split() == ["NAME", "ACTION", "PROFILE", "READY", "AGE"]
        assert table[1].split()[:3] == [name, "Warn", "restricted"]
        wide = crds.kubectl("get", "clustercontainerpolicies", name, "-o", "wide").stdout
        assert "REASON" in wide.splitlines()[0]
    finally:
        crds.kubectl("delete", "ccp", name, "--ignore-not-found")


def test_short_names_and_categories(crds: controlplane.ControlPlane, schema_namespace: str) -> None:
    resources = crds.kubectl("api-resources", "--api-group=bulkhead.dev", "-o", "wide").stdout
    lines = {line.split()[0]: line for line in resources.splitlines()[1:]}
    assert "ccp" in lines["clustercontainerpolicies"].split()
    assert "false" in lines["clustercontainerpolicies"].split()  # not namespaced
    assert "cp" in lines["containerpolicies"].split()
    assert "true" in lines["containerpolicies"].split()
    crds.kubectl("get", "cp", "-n", schema_namespace)
    crds.kubectl("get", "bulkhead")  # the category lists both kinds


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("ccp.spec.rules.images", ["allowedRegistries", "requireDigest", "forbidLatest"]),
        ("ccp.spec.rules.capabilities", ["requireDrop", "allowedAdd", "Linux capabilities"]),
        ("ccp.spec.profile", ["level", "version", "Pod Security Standard"]),
        ("ccp.spec.exclude", ["expires", "checks", "usernames", "reason"]),
        ("cp.spec.match", ["Not allowed in a ContainerPolicy", "objectSelector"]),
        ("ccp.status.conditions", ["Invalid", "Compiled"]),
        ("ccp.spec.rules.hostPath", ["allowedPrefixes", "the operator reports"]),
    ],
)
def test_kubectl_explain_documents_fields(
    crds: controlplane.ControlPlane, field: str, expected: list[str]
) -> None:
    text = " ".join(crds.kubectl("explain", field).stdout.split())
    for word in expected:
        assert word in text, text
