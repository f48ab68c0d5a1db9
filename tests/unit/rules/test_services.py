"""Table tests for the ``services`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import objectspecs as obj_specs
from tests.unit.rules import podspecs as ps
from webhook.rules import objectview

ID = "services"
ONLY_CLUSTER_IP = {"allowedTypes": ["ClusterIP"]}
RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"


def service(annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web", "namespace": "team"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


CASES = [
    pytest.param({}, service(), [], id="allow-unset-type-is-cluster-ip"),
    pytest.param(ONLY_CLUSTER_IP, service(type="ClusterIP"), [], id="allow-cluster-ip"),
    pytest.param(ONLY_CLUSTER_IP, service(type="NodePort"), ["spec.type"], id="deny-node-port"),
    pytest.param(
        ONLY_CLUSTER_IP,
        service(type="LoadBalancer"),
        ["spec.type", "spec.loadBalancerSourceRanges"],
        id="deny-load-balancer-type-and-open-to-all",
    ),
    pytest.param(
        {}, service(type="ExternalName", externalName="db.example.com"), [], id="allow-any-type"
    ),
    pytest.param(
        {}, service(externalIPs=["203.0.113.7"]), ["spec.externalIPs"], id="deny-external-ips"
    ),
    pytest.param({}, service(externalIPs=[]), [], id="edge-empty-external-ips"),
    pytest.param(
        {"externalIPs": True}, service(externalIPs=["203.0.113.7"]), [], id="allow-external-ips"
    ),
    pytest.param(
        {}, service(type="LoadBalancer"), ["spec.loadBalancerSourceRanges"], id="deny-open-lb"
    ),
    pytest.param(
        {},
        service(type="LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/8"]),
        [],
        id="allow-lb-with-ranges",
    ),
    pytest.param(
        {},
        service({RANGES: "10.0.0.0/8"}, type="LoadBalancer"),
        [],
        id="allow-lb-with-ranges-annotation",
    ),
    pytest.param(
        {},
        service({RANGES: " "}, type="LoadBalancer"),
        ["spec.loadBalancerSourceRanges"],
        id="edge-blank-annotation-is-no-ranges",
    ),
    pytest.param(
        {"requireLoadBalancerSourceRanges": False},
        service(type="LoadBalancer"),
        [],
        id="allow-open-lb-when-not-required",
    ),
    pytest.param(
        {"allowedTypes": ["ClusterIP", "NodePort"]},
        service(type="NodePort", externalIPs=["198.51.100.1"]),
        ["spec.externalIPs"],
        id="edge-allowed-type-still-no-external-ips",
    ),
]


@pytest.mark.parametrize(("value", "obj", "expected"), CASES)
def test_check(value: object, obj: dict[str, Any], expected: list[str]) -> None:
    assert obj_specs.paths(obj_specs.run(ID, value, obj)) == expected


def test_messages_name_the_service_the_type_and_the_cve() -> None:
    found = obj_specs.run(
        ID, ONLY_CLUSTER_IP, service(type="NodePort", externalIPs=["203.0.113.7"])
    )
    assert 'Service "web" has type NodePort; the policy allows only ClusterIP' in found[0].message
    assert "CVE-2020-8554" in found[1].message
    assert all(f.fix and f.container is None and f.check == ID for f in found)


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        (service(type=3), "spec.type"),
        (service(externalIPs="203.0.113.7"), "spec.externalIPs"),
        (
            service(type="LoadBalancer", loadBalancerSourceRanges=[1]),
            "spec.loadBalancerSourceRanges[0]",
        ),
        ({"kind": "Service", "metadata": {"name": "x"}, "spec": []}, "spec"),
    ],
    ids=["type-number", "external-ips-string", "range-number", "spec-list"],
)
def test_unreadable_fields_are_refused_not_judged(obj: dict[str, Any], path: str) -> None:
    with pytest.raises(objectview.ObjectError) as caught:
        obj_specs.run(ID, {}, obj)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        (True, [f"spec.rules.{ID}"]),
        ({"allowedTypes": ["Ingress"]}, [f"spec.rules.{ID}.allowedTypes[0]"]),
        ({"allowedTypes": []}, [f"spec.rules.{ID}.allowedTypes"]),
        ({"externalIPs": "no"}, [f"spec.rules.{ID}.externalIPs"]),
        ({"ports": [80]}, [f"spec.rules.{ID}.ports"]),
    ],
    ids=["boolean", "unknown-type", "no-type", "external-ips-string", "unknown-field"],
)
def test_bad_values_are_config_errors(value: object, paths: list[str]) -> None:
    assert ps.problems(ID, value) == paths
