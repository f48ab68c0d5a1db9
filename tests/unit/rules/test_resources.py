"""Table tests for the ``resources`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook.rules import podview

ID = "resources"
POLICY = {
    "requireLimits": ["cpu", "memory"],
    "requireRequests": ["memory"],
    "maxLimits": {"memory": "4Gi", "cpu": "2"},
}


def res(
    name: str = "app",
    *,
    limits: dict[str, Any] | None = None,
    requests: dict[str, Any] | None = None,
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if limits is not None:
        resources["limits"] = limits
    if requests is not None:
        resources["requests"] = requests
    return ps.container(name, resources=resources)


def limited(cpu: object, memory: object) -> dict[str, Any]:
    """A pod whose container sets these cpu and memory limits and a valid memory request."""
    return ps.pod(res(limits={"cpu": cpu, "memory": memory}, requests={"memory": "1Gi"}))


GOOD = {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"memory": "256Mi"}}
C0 = "spec.containers[0].resources"

CASES = [
    pytest.param(POLICY, ps.pod(res(**GOOD)), False, [], id="within-bounds"),
    pytest.param(POLICY, limited("2", "4096Mi"), False, [], id="exactly-at-maximum-in-other-units"),
    pytest.param(
        POLICY,
        ps.pod(ps.container()),
        False,
        [f"{C0}.limits.cpu", f"{C0}.limits.memory", f"{C0}.requests.memory"],
        id="nothing-set",
    ),
    pytest.param(
        POLICY,
        ps.pod(res(limits={"cpu": "1", "memory": "1Gi"})),
        False,
        [],
        id="request-defaults-to-limit",
    ),
    pytest.param(
        POLICY, limited("2001m", "4Gi"), False, [f"{C0}.limits.cpu"], id="cpu-above-maximum"
    ),
    pytest.param(
        POLICY,
        limited(1, "5Gi"),
        False,
        [f"{C0}.limits.memory"],
        id="memory-above-maximum-numeric-cpu-ok",
    ),
    pytest.param(POLICY, limited("1", "4.1e9"), False, [], id="exponent-below-4Gi"),
    pytest.param(
        POLICY, limited("1", "4.3e9"), False, [f"{C0}.limits.memory"], id="exponent-above-4Gi"
    ),
    pytest.param(
        POLICY,
        ps.pod(res(limits={"cpu": "lots", "memory": "1Gi"}, requests={"memory": "1GB"})),
        False,
        [f"{C0}.limits.cpu", f"{C0}.requests.memory"],
        id="invalid-quantities",
    ),
    pytest.param(
        {"requireRequests": ["cpu"]},
        ps.pod(res(limits={"cpu": "bad"})),
        False,
        [f"{C0}.limits.cpu"],
        id="invalid-limit-standing-in-for-request",
    ),
    pytest.param(
        {"maxLimits": {"memory": "1Gi"}},
        ps.pod(ps.container()),
        False,
        [],
        id="max-does-not-require-a-limit",
    ),
    pytest.param(
        {"requireLimits": ["ephemeral-storage", "hugepages-2Mi"]},
        ps.pod(res(limits={"ephemeral-storage": "1Gi"})),
        False,
        [f"{C0}.limits[hugepages-2Mi]"],
        id="non-identifier-names-as-keys",
    ),
    pytest.param(
        POLICY,
        ps.pod(
            res(**GOOD),
            init=[res("init", limits={"cpu": "4", "memory": "1Gi"})],
            ephemeral=[ps.container("debug")],
        ),
        False,
        ["spec.initContainers[0].resources.limits.cpu"],
        id="init-judged-ephemeral-never",
    ),
    pytest.param(
        POLICY,
        ps.pod(res(**GOOD), res("b", limits={"cpu": "1", "memory": "8Gi"})),
        True,
        ["spec.template.spec.containers[1].resources.limits.memory"],
        id="template",
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), CASES)
def test_check(value: object, spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, value, spec=spec, template=template)) == expected


def test_messages() -> None:
    found = ps.run(ID, POLICY, spec=ps.pod(res("web", limits={"cpu": "1", "memory": "8Gi"})))
    [above] = found
    assert "8Gi" in above.message
    assert "4Gi" in above.message
    assert "at most 4Gi" in above.fix
    assert (above.container, above.image) == ("web", ps.IMAGE)
    missing = ps.run(ID, POLICY, spec=ps.pod(ps.container("web")))
    assert "sets no cpu limit" in missing[0].message
    [invalid] = ps.run(ID, {"requireLimits": ["cpu"]}, spec=ps.pod(res(limits={"cpu": "1K"})))
    assert "not valid" in invalid.message
    assert "suffix" in invalid.message


def test_broken_resources_raise_pod_spec_error() -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run(ID, POLICY, spec=ps.pod(ps.container(resources={"limits": ["cpu"]})))
    assert caught.value.path == "spec.containers[0].resources.limits"


CONFIG = [
    pytest.param({}, ["spec.rules.resources"], id="empty-object"),
    pytest.param(["cpu"], ["spec.rules.resources"], id="bare-list"),
    pytest.param(
        {"requireLimits": ["cpu", "CPU", "gpu", "hugepages-", "hugepages-2Mi"]},
        [
            "spec.rules.resources.requireLimits[1]",
            "spec.rules.resources.requireLimits[2]",
            "spec.rules.resources.requireLimits[3]",
        ],
        id="bad-names",
    ),
    pytest.param(
        {"requireRequests": "memory"}, ["spec.rules.resources.requireRequests"], id="not-a-list"
    ),
    pytest.param(
        {
            "maxLimits": {
                "memory": "4GB",
                "cpu": 0,
                "ephemeral-storage": "-1Gi",
                "disk": "1Gi",
                "hugepages-1Gi": True,
            }
        },
        [
            "spec.rules.resources.maxLimits.cpu",
            "spec.rules.resources.maxLimits.disk",
            "spec.rules.resources.maxLimits.memory",
            "spec.rules.resources.maxLimits[ephemeral-storage]",
            "spec.rules.resources.maxLimits[hugepages-1Gi]",
        ],
        id="bad-maximums",
    ),
    pytest.param({"maxLimits": ["4Gi"]}, ["spec.rules.resources.maxLimits"], id="max-not-object"),
    pytest.param({"maxLimits": {"cpu": 2, "memory": 1.5e9}}, [], id="numeric-maximums"),
    pytest.param(
        {"limits": ["cpu"]},
        ["spec.rules.resources", "spec.rules.resources.limits"],
        id="unknown-field",
    ),
]


@pytest.mark.parametrize(("value", "expected"), CONFIG)
def test_config(value: object, expected: list[str]) -> None:
    assert sorted(ps.problems(ID, value)) == expected


def test_config_suggests_lower_case_name() -> None:
    assert 'did you mean "cpu"' in ps.reasons(ID, {"requireLimits": ["CPU"]})
