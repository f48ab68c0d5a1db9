"""Table tests for image reference parsing, normalisation and registry prefixes."""

from __future__ import annotations

import pytest

from webhook.rules import image_references

SHA = "sha256:" + "a" * 64
SHA512 = "sha512:" + "b" * 128
HUB_NGINX = ("docker.io", "library/nginx", None, None, "docker.io/library/nginx:latest")

# text -> (registry, repository, tag, digest, normalized)
VALID = [
    pytest.param("nginx", HUB_NGINX, id="bare-name"),
    pytest.param("docker.io/nginx", HUB_NGINX, id="docker-io-official"),
    pytest.param("index.docker.io/nginx", HUB_NGINX, id="index-docker-io"),
    pytest.param("DOCKER.IO/library/nginx", HUB_NGINX, id="registry-case-folded"),
    pytest.param(
        "nginx:1.27",
        ("docker.io", "library/nginx", "1.27", None, "docker.io/library/nginx:1.27"),
        id="name-tag",
    ),
    pytest.param(
        "bitnami/redis:7",
        ("docker.io", "bitnami/redis", "7", None, "docker.io/bitnami/redis:7"),
        id="hub-org",
    ),
    pytest.param(
        "acme/app",
        ("docker.io", "acme/app", None, None, "docker.io/acme/app:latest"),
        id="first-segment-without-dot-is-not-a-registry",
    ),
    pytest.param(
        "ghcr.io/acme/app:v1",
        ("ghcr.io", "acme/app", "v1", None, "ghcr.io/acme/app:v1"),
        id="ghcr",
    ),
    pytest.param(
        "ghcr.io/acme/team/app",
        ("ghcr.io", "acme/team/app", None, None, "ghcr.io/acme/team/app:latest"),
        id="nested-path",
    ),
    pytest.param(
        f"ghcr.io/acme/app@{SHA}",
        ("ghcr.io", "acme/app", None, SHA, f"ghcr.io/acme/app@{SHA}"),
        id="digest-only",
    ),
    pytest.param(
        f"ghcr.io/acme/app:v1@{SHA}",
        ("ghcr.io", "acme/app", "v1", SHA, f"ghcr.io/acme/app:v1@{SHA}"),
        id="tag-and-digest",
    ),
    pytest.param(
        f"app@{SHA512}",
        ("docker.io", "library/app", None, SHA512, f"docker.io/library/app@{SHA512}"),
        id="sha512",
    ),
    pytest.param(
        "localhost/app",
        ("localhost", "app", None, None, "localhost/app:latest"),
        id="localhost",
    ),
    pytest.param(
        "localhost:5000/app:dev",
        ("localhost:5000", "app", "dev", None, "localhost:5000/app:dev"),
        id="localhost-port",
    ),
    pytest.param(
        "registry:5000/app",
        ("registry:5000", "app", None, None, "registry:5000/app:latest"),
        id="port-makes-registry",
    ),
    pytest.param(
        "10.0.0.1:5000/team/app",
        ("10.0.0.1:5000", "team/app", None, None, "10.0.0.1:5000/team/app:latest"),
        id="ipv4",
    ),
    pytest.param(
        "[::1]:5000/app",
        ("[::1]:5000", "app", None, None, "[::1]:5000/app:latest"),
        id="ipv6",
    ),
    pytest.param(
        "registry.example.com/a_b/c.d/e--f/g__h",
        (
            "registry.example.com",
            "a_b/c.d/e--f/g__h",
            None,
            None,
            "registry.example.com/a_b/c.d/e--f/g__h:latest",
        ),
        id="separators",
    ),
    pytest.param(
        "nginx:Latest_1.0-rc",
        (
            "docker.io",
            "library/nginx",
            "Latest_1.0-rc",
            None,
            "docker.io/library/nginx:Latest_1.0-rc",
        ),
        id="tag-charset",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_parse_valid(text: str, expected: tuple[str, str, str | None, str | None, str]) -> None:
    registry, repository, tag, digest, normalized = expected
    ref = image_references.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.normalized == normalized
    assert ref.name == f"{registry}/{repository}"


LATEST = [
    pytest.param("nginx", True, id="implied"),
    pytest.param("nginx:latest", True, id="explicit"),
    pytest.param("nginx:1.27", False, id="versioned"),
    pytest.param(f"nginx@{SHA}", False, id="digest-only"),
    pytest.param(f"nginx:latest@{SHA}", False, id="latest-with-digest-is-pinned"),
    pytest.param("nginx:LATEST", False, id="tags-are-case-sensitive"),
]


@pytest.mark.parametrize(("text", "latest"), LATEST)
def test_latest(text: str, latest: bool) -> None:
    assert image_references.parse(text).latest is latest


INVALID = [
    pytest.param("", "is empty", id="empty"),
    pytest.param("Nginx", "lower case", id="upper-case-name"),
    pytest.param("ghcr.io/Acme/app", "lower case", id="upper-case-path"),
    pytest.param("Acme/app", "lower case", id="upper-case-first-segment-is-not-a-registry"),
    pytest.param("nginx:", "tag", id="empty-tag"),
    pytest.param("nginx:-bad", "tag", id="tag-starts-with-dash"),
    pytest.param("nginx:" + "x" * 129, "tag", id="tag-too-long"),
    pytest.param("nginx@sha256:abc", "64", id="short-digest"),
    pytest.param("nginx@sha256:" + "A" * 64, "lower-case", id="upper-case-hex"),
    pytest.param("nginx@sha256:" + "g" * 64, "hexadecimal", id="non-hex"),
    pytest.param("nginx@md5:" + "a" * 32, "not supported", id="unknown-algorithm"),
    pytest.param("nginx@" + "a" * 64, "algorithm:hex", id="digest-without-algorithm"),
    pytest.param("nginx@", "algorithm:hex", id="empty-digest"),
    pytest.param(f"nginx@{SHA}@{SHA}", "hexadecimal", id="two-digests"),
    pytest.param("ghcr.io//app", "empty path segment", id="empty-segment"),
    pytest.param("ghcr.io/acme/app/", "empty path segment", id="trailing-slash"),
    pytest.param("ghcr.io/acme/-app", "not valid", id="component-starts-with-separator"),
    pytest.param("ghcr.io/acme/a...b", "not valid", id="triple-dot"),
    pytest.param("ghcr.io/acme/../x", "not valid", id="dotdot"),
    pytest.param("-bad.io/app", "registry", id="bad-registry-host"),
    pytest.param("ghcr.io:/app", "registry", id="empty-port"),
    pytest.param(":tag", "repository", id="no-name"),
    pytest.param(" nginx", "not valid", id="leading-space"),
    pytest.param("nginx:1.0 ", "tag", id="trailing-space"),
    pytest.param("a" * 256, "longer than 255", id="name-too-long"),
    pytest.param("x" * 2000, "too long", id="reference-too-long"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_parse_invalid(text: str, reason: str) -> None:
    with pytest.raises(image_references.ImageError) as caught:
        image_references.parse(text)
    assert reason in caught.value.reason


def test_parse_is_cached() -> None:
    assert image_references.parse("ghcr.io/acme/cached:1") is image_references.parse(
        "ghcr.io/acme/cached:1"
    )


PREFIXES = [
    pytest.param("ghcr.io/acme/", "ghcr.io/acme/x", True, id="below-prefix"),
    pytest.param("ghcr.io/acme", "ghcr.io/acme/x", True, id="without-trailing-slash"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acme/team/y:1", True, id="nested"),
    pytest.param("ghcr.io/acme", "ghcr.io/acme", True, id="exact-repository"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acme-evil/x", False, id="evil-sibling"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acmex", False, id="longer-name"),
    pytest.param("ghcr.io/acme/", "ghcr.io.evil.com/acme/x", False, id="evil-registry-suffix"),
    pytest.param("ghcr.io/acme/", "evil.com/ghcr.io/acme/x", False, id="registry-in-path"),
    pytest.param("ghcr.io/acme/", "ghcr.io:443/acme/x", False, id="different-port"),
    pytest.param("ghcr.io/acme/", "acme/x", False, id="hub-org-of-same-name"),
    pytest.param("ghcr.io", "ghcr.io/anyone/x", True, id="whole-registry"),
    pytest.param("ghcr.io", "ghcr.io.evil.com/x", False, id="whole-registry-evil-suffix"),
    pytest.param("GHCR.IO/acme", "ghcr.io/acme/x", True, id="prefix-registry-case-folded"),
    pytest.param("ghcr.io/acme", "GHCR.io/acme/x", True, id="image-registry-case-folded"),
    pytest.param("docker.io", "nginx", True, id="docker-io-admits-bare-name"),
    pytest.param("docker.io/library", "nginx:1.27", True, id="library-admits-official"),
    pytest.param("docker.io/library", "bitnami/redis", False, id="library-not-other-orgs"),
    pytest.param("index.docker.io/bitnami", "bitnami/redis", True, id="index-docker-io-prefix"),
    pytest.param("localhost:5000", "localhost:5000/app", True, id="registry-with-port"),
    pytest.param("localhost:5000", "localhost/app", False, id="port-matters"),
    pytest.param("ghcr.io/acme", "ghcr.io/acme:1", True, id="no-slash-admits-repository-itself"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acme:1", False, id="trailing-slash-not-repository"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acme/app:1", True, id="trailing-slash-admits-below"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acme/t/app", True, id="trailing-slash-admits-deeper"),
    pytest.param("ghcr.io/acme/", "ghcr.io/acmex/app", False, id="trailing-slash-boundary"),
    pytest.param("ghcr.io/", "ghcr.io/app", True, id="registry-slash-admits-all"),
    pytest.param("docker.io/library/", "nginx", True, id="library-slash-admits-official"),
]


@pytest.mark.parametrize(("prefix", "image", "admitted"), PREFIXES)
def test_prefix_admits(prefix: str, image: str, admitted: bool) -> None:
    parsed = image_references.parse_prefix(prefix)
    reference = image_references.parse(image)
    assert parsed.admits(reference) is admitted
    assert image_references.PrefixSet((parsed,)).admits(reference) is admitted


def test_prefix_set_matches_any_member() -> None:
    allowed = image_references.PrefixSet(
        (
            image_references.parse_prefix("ghcr.io/acme"),
            image_references.parse_prefix("docker.io/library"),
        )
    )
    assert allowed.admits(image_references.parse("nginx"))
    assert allowed.admits(image_references.parse("ghcr.io/acme/app"))
    assert not allowed.admits(image_references.parse("ghcr.io/other/app"))
    assert str(allowed) == "ghcr.io/acme, docker.io/library"


def test_prefix_set_mixes_repository_and_below_prefixes() -> None:
    allowed = image_references.PrefixSet(
        (
            image_references.parse_prefix("ghcr.io/acme/"),
            image_references.parse_prefix("ghcr.io/tools"),
        )
    )
    assert not allowed.admits(image_references.parse("ghcr.io/acme:1"))
    assert allowed.admits(image_references.parse("ghcr.io/acme/app:1"))
    assert allowed.admits(image_references.parse("ghcr.io/tools:1"))
    assert allowed.admits(image_references.parse("ghcr.io/tools/x:1"))
    assert str(allowed) == "ghcr.io/acme/, ghcr.io/tools"


BAD_PREFIXES = [
    pytest.param("", "empty", id="empty"),
    pytest.param("/", "empty", id="only-slash"),
    pytest.param("acme/", "registry host", id="no-registry-host"),
    pytest.param("nginx", "registry host", id="bare-name"),
    pytest.param("ghcr.io/acme/app:1.0", "without a tag", id="tag"),
    pytest.param(f"ghcr.io/acme/app@{SHA}", "without a digest", id="digest"),
    pytest.param("ghcr.io/acme/*", "wildcards", id="wildcard"),
    pytest.param("*.acme.io", "wildcards", id="wildcard-registry"),
    pytest.param("ghcr.io/Acme", "lower case", id="upper-case-path"),
    pytest.param("ghcr.io/acme//x", "empty path segment", id="empty-segment"),
    pytest.param("bad_host.io/x", "registry", id="bad-host"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_PREFIXES)
def test_bad_prefixes(text: str, reason: str) -> None:
    with pytest.raises(image_references.ImageError) as caught:
        image_references.parse_prefix(text)
    assert reason in caught.value.reason
