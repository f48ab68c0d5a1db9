"""Table tests for the ``images`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import podview

ID = "images"
SHA = ps.DIGEST
STRICT = {"requireDigest": True, "allowedRegistries": ["ghcr.io/acme/"], "forbidLatest": True}
ACME = {"allowedRegistries": ["ghcr.io/acme/"]}


def image(ref: Any, name: str = "app") -> dict[str, Any]:
    return {"name": name, "image": ref}


def pod_of(*refs: Any) -> dict[str, Any]:
    return ps.pod(*(image(ref, f"c{index}") for index, ref in enumerate(refs)))


def c(index: int) -> str:
    return f"spec.containers[{index}].image"


CASES = [
    pytest.param(STRICT, pod_of(f"ghcr.io/acme/app@{SHA}"), False, [], id="strict-ok"),
    pytest.param(STRICT, pod_of(f"ghcr.io/acme/app:1.0@{SHA}"), False, [], id="tag-and-digest"),
    pytest.param(
        STRICT, pod_of(f"ghcr.io/acme/app:latest@{SHA}"), False, [], id="latest-with-digest"
    ),
    pytest.param(STRICT, pod_of("ghcr.io/acme/app:1.0"), False, [c(0)], id="no-digest"),
    pytest.param(ACME, pod_of("ghcr.io/acme/team/app:1"), False, [], id="nested-repository"),
    pytest.param(ACME, pod_of("ghcr.io/acme-evil/app:1"), False, [c(0)], id="evil-sibling"),
    pytest.param(ACME, pod_of("ghcr.io.evil.com/acme/app:1"), False, [c(0)], id="evil-registry"),
    pytest.param(ACME, pod_of("acme/app:1"), False, [c(0)], id="hub-namesake"),
    pytest.param(
        {"allowedRegistries": ["docker.io"]}, pod_of("nginx:1.27"), False, [], id="docker-io-nginx"
    ),
    pytest.param(
        {"allowedRegistries": ["ghcr.io/acme", "docker.io/library"]},
        pod_of("nginx:1.27", "ghcr.io/acme/x:1", "quay.io/acme/x:1"),
        False,
        [c(2)],
        id="several-registries",
    ),
    pytest.param({"forbidLatest": True}, pod_of("nginx"), False, [c(0)], id="implied-latest"),
    pytest.param(
        {"forbidLatest": True}, pod_of("nginx:latest"), False, [c(0)], id="explicit-latest"
    ),
    pytest.param({"forbidLatest": True}, pod_of("nginx:1.27"), False, [], id="versioned"),
    pytest.param({"forbidLatest": True}, pod_of(f"nginx@{SHA}"), False, [], id="digest-only"),
    pytest.param(
        {"requireDigest": True}, pod_of(f"nginx@{SHA}"), False, [], id="digest-any-registry"
    ),
    pytest.param(
        {"requireDigest": False, "forbidLatest": False},
        pod_of("nginx"),
        False,
        [],
        id="explicit-false-switches",
    ),
    pytest.param({}, pod_of("nginx"), False, [], id="empty-object-valid-reference"),
    pytest.param({}, pod_of("Nginx"), False, [c(0)], id="empty-object-invalid-reference"),
    pytest.param({}, pod_of(""), False, [c(0)], id="empty-image"),
    pytest.param({}, ps.pod({"name": "noimage"}), False, [c(0)], id="missing-image"),
    pytest.param({}, pod_of(42), False, [c(0)], id="non-string-image"),
    pytest.param(
        STRICT,
        ps.pod(
            image(f"ghcr.io/acme/app@{SHA}"),
            init=[image("busybox", "init")],
            ephemeral=[image("ghcr.io/acme/debug:latest", "debug")],
        ),
        False,
        ["spec.initContainers[0].image", "spec.ephemeralContainers[0].image"],
        id="all-three-kinds",
    ),
    pytest.param(
        STRICT,
        pod_of(f"ghcr.io/acme/app@{SHA}", "nginx"),
        True,
        ["spec.template.spec.containers[1].image"],
        id="template",
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), CASES)
def test_check(value: object, spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, value, spec=spec, template=template)) == expected


def test_one_finding_lists_every_reason_and_shows_both_forms() -> None:
    [finding] = ps.run(ID, STRICT, spec=pod_of("nginx"))
    assert '"nginx"' in finding.message
    assert "docker.io/library/nginx:latest" in finding.message
    assert "not from an allowed registry (ghcr.io/acme/)" in finding.message
    assert "not pinned by a digest" in finding.message
    assert "latest" in finding.message
    assert "ghcr.io/acme" in finding.fix
    assert "@sha256" in finding.fix
    assert (finding.container, finding.image) == ("c0", "nginx")


def test_invalid_reference_says_why() -> None:
    [finding] = ps.run(ID, {}, spec=pod_of("ghcr.io/Acme/app"))
    assert "not valid" in finding.message
    assert "lower case" in finding.message
    [empty] = ps.run(ID, {}, spec=pod_of(""))
    assert "has no image" in empty.message


CONFIG = [
    pytest.param(True, ["spec.rules.images"], id="boolean"),
    pytest.param(["ghcr.io"], ["spec.rules.images"], id="bare-list"),
    pytest.param(
        {"allowedRegistries": []}, ["spec.rules.images.allowedRegistries"], id="empty-list"
    ),
    pytest.param(
        {"allowedRegistries": "ghcr.io"}, ["spec.rules.images.allowedRegistries"], id="not-a-list"
    ),
    pytest.param(
        {"allowedRegistries": ["ghcr.io/acme", "acme", "ghcr.io/*", "ghcr.io/a:1", ""]},
        [
            "spec.rules.images.allowedRegistries[1]",
            "spec.rules.images.allowedRegistries[2]",
            "spec.rules.images.allowedRegistries[3]",
            "spec.rules.images.allowedRegistries[4]",
        ],
        id="every-bad-entry",
    ),
    pytest.param(
        {"requireDigest": "yes", "forbidLatest": 1, "latest": False},
        [
            "spec.rules.images.forbidLatest",
            "spec.rules.images.latest",
            "spec.rules.images.requireDigest",
        ],
        id="bad-switches-and-unknown-field",
    ),
]


@pytest.mark.parametrize(("value", "expected"), CONFIG)
def test_config(value: object, expected: list[str]) -> None:
    assert sorted(ps.problems(ID, value)) == expected


def test_config_reason_for_hub_org_without_registry() -> None:
    assert "docker.io/acme" in ps.reasons(ID, {"allowedRegistries": ["acme"]})


# -- every field that makes the node pull an image -------------------------------------


def image_volume(ref: Any, name: str = "models") -> dict[str, Any]:
    return {"name": name, "image": {"reference": ref, "pullPolicy": "IfNotPresent"}}


PINNED = f"ghcr.io/acme/app@{SHA}"

IMAGE_FIELDS = [
    pytest.param(
        ps.pod(image("nginx:latest", "c")), "spec.containers[0].image", "c", id="containers"
    ),
    pytest.param(
        ps.pod(image(PINNED), init=[image("nginx:latest", "setup")]),
        "spec.initContainers[0].image",
        "setup",
        id="initContainers",
    ),
    pytest.param(
        ps.pod(image(PINNED), ephemeral=[image("nginx:latest", "debug")]),
        "spec.ephemeralContainers[0].image",
        "debug",
        id="ephemeralContainers",
    ),
    pytest.param(
        ps.pod(image(PINNED), volumes=[{"name": "tmp", "emptyDir": {}}, image_volume("nginx")]),
        "spec.volumes[1].image.reference",
        None,
        id="volumes-image-reference",
    ),
]


@pytest.mark.parametrize(("spec", "path", "container"), IMAGE_FIELDS)
def test_every_image_bearing_field_is_judged(
    spec: dict[str, Any], path: str, container: str | None
) -> None:
    found = ps.run(ID, STRICT, spec=spec)
    assert ps.paths(found) == [path]
    [finding] = found
    assert finding.container == container
    assert "not from an allowed registry" in finding.message
    assert "not pinned by a digest" in finding.message
    assert "latest" in finding.message
    [templated] = ps.run(ID, STRICT, spec=spec, template=True)
    assert templated.path == path.replace("spec.", "spec.template.spec.", 1)


def test_image_volume_message_names_the_volume_and_the_image() -> None:
    spec = ps.pod(image(PINNED), volumes=[image_volume("nginx")])
    [finding] = ps.run(ID, STRICT, spec=spec)
    assert finding.message.startswith(
        'image volume "models" reference "nginx" (docker.io/library/nginx:latest)'
    )
    assert (finding.container, finding.image) == (None, "nginx")


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        pytest.param({"name": "m", "image": {}}, "has no reference", id="no-reference"),
        pytest.param({"name": "m", "image": {"reference": 7}}, "has no reference", id="not-text"),
        pytest.param(
            {"name": "m", "image": {"reference": "Acme/App"}}, "is not valid", id="invalid"
        ),
    ],
)
def test_image_volume_without_a_valid_reference(volume: dict[str, Any], message: str) -> None:
    [finding] = ps.run(ID, {}, spec=ps.pod(image(PINNED), volumes=[volume]))
    assert finding.path == "spec.volumes[0].image.reference"
    assert message in finding.message


def test_image_volume_that_is_not_an_object_names_the_field() -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run(ID, {}, spec=ps.pod(image(PINNED), volumes=[{"name": "m", "image": "nginx"}]))
    assert caught.value.path == "spec.volumes[0].image"


def test_compliant_image_volume_passes() -> None:
    assert ps.run(ID, STRICT, spec=ps.pod(image(PINNED), volumes=[image_volume(PINNED)])) == []


def test_rule_lists_every_image_field() -> None:
    assert set(podview.IMAGE_FIELDS) <= set(rules.RULES[ID].fields)
    assert "spec.volumes[*].image.reference" in podview.IMAGE_FIELDS
