"""Tests for the pod view's readers of nested fields and container labels."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook.rules import findings, podview


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        pytest.param("initContainers", 'init container "c"', id="init"),
        pytest.param("containers", 'container "c"', id="regular"),
        pytest.param("ephemeralContainers", 'ephemeral container "c"', id="ephemeral"),
    ],
)
def test_label_names_the_kind(kind: str, label: str) -> None:
    [container] = podview.read({kind: [{"name": "c", "image": "x"}]}).containers
    assert container.label == label


def test_mapping_and_objects_return_what_is_there() -> None:
    view = ps.view(ps.pod())
    value = {"a": 1}
    entries = [{"a": 1}]
    assert podview.mapping(value, view, "x") is value
    assert podview.mapping(None, view, "x") == {}
    assert podview.objects(entries, view, "volumes") is entries
    assert podview.objects(None, view, "volumes") == ()


@pytest.mark.parametrize(
    ("value", "template", "path"),
    [
        pytest.param({"volumes": {"a": 1}}, False, "spec.volumes", id="not-a-list"),
        pytest.param({"volumes": [{}, "x"]}, False, "spec.volumes[1]", id="entry-not-object"),
        pytest.param({"volumes": "x"}, True, "spec.template.spec.volumes", id="template"),
    ],
)
def test_objects_errors_name_the_field(value: dict[str, Any], template: bool, path: str) -> None:
    view = ps.view(ps.pod(**value), template=template)
    with pytest.raises(podview.PodSpecError) as caught:
        podview.objects(view.spec["volumes"], view, "volumes")
    assert caught.value.path == path


def test_mapping_error_names_the_container_field() -> None:
    [container] = ps.view(ps.pod()).containers
    with pytest.raises(podview.PodSpecError) as caught:
        podview.mapping([1], container, "resources", "limits")
    assert caught.value.path == "spec.containers[0].resources.limits"


def test_container_finding_is_at_its_field_and_names_it() -> None:
    [container] = ps.view(ps.pod(ps.container("web")), template=True).containers
    finding = container.finding("c", "securityContext", "privileged", message="m", fix="f")
    assert finding == findings.Finding(
        check="c",
        path="spec.template.spec.containers[0].securityContext.privileged",
        message="m",
        fix="f",
        container="web",
        image=ps.IMAGE,
    )
    assert container.finding_at("c", "elsewhere", message="m", fix="f").path == "elsewhere"


def test_pod_finding_names_no_container() -> None:
    view = ps.view(ps.pod())
    assert view.finding("c", "securityContext", "runAsUser", message="m", fix="f") == (
        findings.Finding(check="c", path="spec.securityContext.runAsUser", message="m", fix="f")
    )
    at = view.finding_at("c", view.annotation_path("a/b"), message="m", fix="f")
    assert (at.path, at.container, at.image) == ("metadata.annotations[a/b]", None, None)


@pytest.mark.parametrize(
    ("spec", "key", "expected"),
    [
        ({"containers": [{"name": "a"}]}, "privileged", False),
        (
            {"containers": [{"name": "a", "securityContext": {"privileged": False}}]},
            "privileged",
            True,
        ),
        (
            {"ephemeralContainers": [{"name": "e", "securityContext": {"procMount": "Unmasked"}}]},
            "procMount",
            True,
        ),
        (
            {"initContainers": [{"name": "i", "securityContext": {"runAsUser": 0}}]},
            "runAsUser",
            True,
        ),
        ({"securityContext": {"runAsUser": 0}, "containers": [{"name": "a"}]}, "runAsUser", True),
        (
            {"securityContext": {"runAsUser": 0}, "containers": [{"name": "a"}]},
            "seLinuxOptions",
            False,
        ),
    ],
    ids=["unset", "container-false-counts", "ephemeral", "init", "pod-level", "other-key"],
)
def test_sets_security_sees_every_level(spec: dict[str, object], key: str, expected: bool) -> None:
    assert podview.read(spec).sets_security(key) is expected
