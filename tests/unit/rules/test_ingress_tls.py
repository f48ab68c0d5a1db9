"""Table tests for the ``ingressTLS`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import objectspecs as obj_specs
from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import ingress_tls, objectview

ID = "ingressTLS"
NGINX_ONLY = {"allowedClasses": ["nginx"]}
BACKEND = {"service": {"name": "web", "port": {"number": 80}}}


def ingress(
    *hosts: str | None, tls: list[Any] | None = None, annotations: Any = None, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = dict(spec)
    if hosts:
        body["rules"] = [
            {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": BACKEND}]}}
            | ({} if host is None else {"host": host})
            for host in hosts
        ]
    if tls is not None:
        body["tls"] = tls
    metadata: dict[str, Any] = {"name": "shop", "namespace": "team"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"kind": "Ingress", "metadata": metadata, "spec": body}


CASES = [
    pytest.param(
        True,
        ingress("shop.example.com", tls=[{"hosts": ["shop.example.com"], "secretName": "t"}]),
        [],
        id="allow-host-covered",
    ),
    pytest.param(True, ingress("shop.example.com"), ["spec.rules[0].host"], id="deny-no-tls"),
    pytest.param(
        True,
        ingress("shop.example.com", "api.example.com", tls=[{"hosts": ["shop.example.com"]}]),
        ["spec.rules[1].host"],
        id="deny-second-host-uncovered",
    ),
    pytest.param(
        True,
        ingress("a.example.com", tls=[{"hosts": ["*.example.com"]}]),
        [],
        id="allow-wildcard-one-label",
    ),
    pytest.param(
        True,
        ingress("a.b.example.com", tls=[{"hosts": ["*.example.com"]}]),
        ["spec.rules[0].host"],
        id="edge-wildcard-not-two-labels",
    ),
    pytest.param(
        True,
        ingress("example.com", tls=[{"hosts": ["*.example.com"]}]),
        ["spec.rules[0].host"],
        id="edge-wildcard-not-the-apex",
    ),
    pytest.param(
        True,
        ingress("Shop.Example.com", tls=[{"hosts": ["shop.example.COM"]}]),
        [],
        id="edge-case-insensitive",
    ),
    pytest.param(True, ingress(None), ["spec.rules[0]"], id="deny-hostless-rule-no-tls"),
    pytest.param(
        True, ingress(None, tls=[{"secretName": "default"}]), [], id="allow-hostless-default-cert"
    ),
    pytest.param(
        True,
        ingress(None, tls=[{"hosts": ["shop.example.com"]}]),
        ["spec.rules[0]"],
        id="edge-hostless-rule-needs-a-hostless-tls-entry",
    ),
    pytest.param(
        True, ingress(defaultBackend=BACKEND), ["spec.defaultBackend"], id="deny-default-backend"
    ),
    pytest.param(True, ingress(), [], id="edge-nothing-served"),
    pytest.param(
        NGINX_ONLY,
        ingress("a.example.com", tls=[{"hosts": ["a.example.com"]}], ingressClassName="nginx"),
        [],
        id="allow-class",
    ),
    pytest.param(
        NGINX_ONLY,
        ingress("a.example.com", tls=[{"hosts": ["a.example.com"]}], ingressClassName="public"),
        ["spec.ingressClassName"],
        id="deny-other-class",
    ),
    pytest.param(
        NGINX_ONLY,
        ingress("a.example.com", tls=[{"hosts": ["a.example.com"]}]),
        ["spec.ingressClassName"],
        id="deny-no-class",
    ),
    pytest.param(
        NGINX_ONLY,
        ingress(
            "a.example.com",
            tls=[{"hosts": ["a.example.com"]}],
            annotations={ingress_tls.CLASS_ANNOTATION: "public"},
        ),
        [f"metadata.annotations[{ingress_tls.CLASS_ANNOTATION}]"],
        id="deny-other-class-by-annotation",
    ),
    pytest.param(
        NGINX_ONLY,
        ingress(
            "a.example.com",
            tls=[{"hosts": ["a.example.com"]}],
            annotations={ingress_tls.CLASS_ANNOTATION: "nginx"},
        ),
        [],
        id="allow-class-by-annotation",
    ),
]


@pytest.mark.parametrize(("value", "obj", "expected"), CASES)
def test_check(value: object, obj: dict[str, Any], expected: list[str]) -> None:
    assert obj_specs.paths(obj_specs.run(ID, value, obj)) == expected


def test_message_names_the_host() -> None:
    [found] = obj_specs.run(ID, True, ingress("shop.example.com"))
    assert found.message == (
        'Ingress "shop" serves host shop.example.com without TLS: no spec.tls entry covers it'
    )
    assert "spec.tls" in found.fix


def test_false_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(False, f"spec.rules.{ID}") is None


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        (ingress("a", tls={"hosts": ["a"]}), "spec.tls"),
        (ingress("a", tls=[{"hosts": "a"}]), "spec.tls[0].hosts"),
        (
            {"kind": "Ingress", "metadata": {"name": "x"}, "spec": {"rules": [{"host": 1}]}},
            "spec.rules[0].host",
        ),
    ],
    ids=["tls-object", "hosts-string", "host-number"],
)
def test_unreadable_fields_are_refused_not_judged(obj: dict[str, Any], path: str) -> None:
    with pytest.raises(objectview.ObjectError) as caught:
        obj_specs.run(ID, True, obj)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        ("yes", [f"spec.rules.{ID}"]),
        ({"allowedClasses": []}, [f"spec.rules.{ID}.allowedClasses"]),
        ({"allowedClasses": [""]}, [f"spec.rules.{ID}.allowedClasses[0]"]),
        ({"classes": ["nginx"]}, [f"spec.rules.{ID}.classes"]),
    ],
    ids=["string", "no-class", "empty-class", "unknown-field"],
)
def test_bad_values_are_config_errors(value: object, paths: list[str]) -> None:
    assert ps.problems(ID, value) == paths


def test_bad_value_says_the_booleans_too() -> None:
    assert "must be true (TLS for every host), false (not checked)" in ps.reasons(ID, "yes")
