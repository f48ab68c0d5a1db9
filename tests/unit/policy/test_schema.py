"""The CRD schema against the compiler and the rules: fields in step, verdicts agreeing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.operator import specs
from webhook import policy
from webhook.policy import compiler, crds, schema, scope_compiler, selectors


def _spec(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec: dict[str, Any] = schema["properties"]["spec"]
    return spec


@pytest.fixture(params=["cluster", "namespaced"])
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    build = crds.cluster_definition if request.param == "cluster" else crds.namespaced_definition
    return _spec(build())


def test_field_tables_match(spec: dict[str, Any]) -> None:
    props = spec["properties"]
    assert list(props) == list(compiler.SPEC_FIELDS)
    assert list(props["profile"]["properties"]) == list(compiler.PROFILE_FIELDS)
    assert list(props["rules"]["properties"]) == list(policy.RULE_IDS)
    assert list(props["match"]["properties"]) == list(scope_compiler.MATCH_FIELDS)
    entry = props["exclude"]["items"]
    assert list(entry["properties"]) == list(scope_compiler.EXCLUSION_FIELDS)
    selector = props["match"]["properties"]["namespaceSelector"]
    assert list(selector["properties"]) == list(selectors.FIELDS)
    expression = selector["properties"]["matchExpressions"]["items"]
    assert list(expression["properties"]) == list(selectors.EXPRESSION_FIELDS)


def test_enums_come_from_the_vocabulary(spec: dict[str, Any]) -> None:
    props = spec["properties"]
    assert props["action"]["enum"] == list(policy.ACTIONS)
    assert props["match"]["properties"]["kinds"]["items"]["enum"] == list(policy.WORKLOAD_KINDS)
    checks = props["exclude"]["items"]["properties"]["checks"]["items"]["enum"]
    assert set(checks) == set(policy.RULE_IDS) | policy.POD_SECURITY_CHECK_IDS


def test_drift_is_refused() -> None:
    with pytest.raises(schema.DriftError, match="nonsense"):
        schema.checked("spec", {"action": {}}, ("action", "nonsense"))
    with pytest.raises(schema.DriftError, match="extra"):
        schema.checked("spec", {"action": {}, "extra": {}}, ("action",))


def _walk(schema: dict[str, Any], path: str = "spec") -> list[tuple[str, dict[str, Any]]]:
    out = [(path, schema)]
    for name, child in (schema.get("properties") or {}).items():
        out.extend(_walk(child, f"{path}.{name}"))
    items = schema.get("items")
    if isinstance(items, dict) and items.get("type") == "object":
        out.extend(_walk(items, f"{path}[]"))
    return out


def test_every_field_is_described(spec: dict[str, Any]) -> None:
    for path, field in _walk(spec):
        assert field.get("description"), f"{path} has no description"


_EXPECTED = re.compile(r"expected one of (.*)$")


def _allowed_by_compiler(rule_id: str) -> set[str]:
    """The fields the compiler accepts under ``spec.rules.<rule_id>``, from its own message."""
    document = specs.Case("probe", {"rules": {rule_id: {"noSuchField": True}}}).document("p")
    with pytest.raises(policy.CompileError) as caught:
        policy.compile(document)
    for problem in caught.value.problems:
        if problem.path == f"spec.rules.{rule_id}.noSuchField":
            match = _EXPECTED.search(problem.reason)
            if match:
                return set(match.group(1).split(", "))
            return set()
    raise AssertionError(f"the compiler took an unknown field under {rule_id}")


_RULE_SCHEMAS = _spec(crds.cluster_definition())["properties"]["rules"]["properties"]


@pytest.mark.parametrize(
    "rule_id", [name for name, schema in _RULE_SCHEMAS.items() if schema.get("type") == "object"]
)
def test_rule_object_fields_match_the_rule_parser(rule_id: str) -> None:
    assert set(_RULE_SCHEMAS[rule_id]["properties"]) == _allowed_by_compiler(rule_id)


@pytest.mark.parametrize("case", specs.INVALID, ids=lambda c: c.id)
def test_what_the_schema_refuses_does_not_compile(case: specs.Case) -> None:
    with pytest.raises(policy.CompileError):
        policy.compile(case.document(f"x-{case.id}", "team"))


@pytest.mark.parametrize("case", specs.VALID, ids=lambda c: c.id)
def test_what_the_schema_accepts_compiles(case: specs.Case) -> None:
    policy.compile(case.document(f"x-{case.id}", "team"))


def test_patterns_agree_with_the_compiler() -> None:
    names = re.compile(schema.NAME_PATTERN)
    for good in ("kube-system", "a", "team-*", "*", "x" * 63):
        assert names.match(good), good
    for bad in ("Kube", "", "x" * 64, "a_b", "-a"):
        assert not names.match(bad), bad
    version = re.compile(schema.VERSION_PATTERN)
    assert version.match("latest")
    assert version.match("v1.0")
    assert version.match("v1.35")
    assert not version.match("v1.01")
    assert not version.match("1.30")
    expires = re.compile(schema.EXPIRES_PATTERN)
    assert expires.match("2027-01-31")
    assert expires.match("2027-01-31T18:00:00Z")
    assert not expires.match("tomorrow")
