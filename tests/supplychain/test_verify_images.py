"""``bulkhead check --verify-images`` against a real registry with real cosign signatures.

Every image is generated and pushed to the loopback registry, every
signature made by the real cosign CLI with keys generated here; the tampered
and swapped cases edit what cosign wrote, over the registry API, as an
attacker with push access would.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib

import pytest

from tests.supplychain import conftest, harness
from webhook import cli, manifestcheck


def _policy(
    path: pathlib.Path,
    key: str,
    *,
    repositories: list[str],
    vulnerabilities: dict[str, object] | None = None,
) -> pathlib.Path:
    rule: dict[str, object] = {"keys": [key], "repositories": repositories}
    if vulnerabilities is not None:
        rule["vulnerabilities"] = vulnerabilities
    document = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "signed-images"},
        "spec": {"rules": {"imageSignatures": rule}},
    }
    path.write_text(json.dumps(document))
    return path


def _pod(path: pathlib.Path, image: str) -> pathlib.Path:
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }
    path.write_text(json.dumps(document))
    return path


@dataclasses.dataclass(frozen=True)
class World:
    capsys: pytest.CaptureFixture[str]
    tmp_path: pathlib.Path
    registry: harness.Registry
    cosign: harness.Cosign
    keys: conftest.Keys

    def check(
        self,
        image: str,
        *,
        registry: harness.Registry | None = None,
        verify: bool = True,
        ca: bool = True,
        vulnerabilities: dict[str, object] | None = None,
    ) -> tuple[int, str]:
        """Run ``bulkhead check`` on a Pod running ``image``: (exit status, output)."""
        reg = registry or self.registry
        policy = _policy(
            self.tmp_path / "policy.json",
            self.keys.trusted.public_pem,
            repositories=[f"{reg.host}/*"],
            vulnerabilities=vulnerabilities,
        )
        argv = ["check", "-f", str(_pod(self.tmp_path / "pod.json", image))]
        argv += ["--policy-file", str(policy), "--registry-timeout", "10"]
        if verify:
            argv.append("--verify-images")
        if ca:
            argv += ["--registry-ca-file", str(reg.ca_file)]
        code = cli.main(argv)
        return code, self.capsys.readouterr().out

    def sign(
        self, image: str, *, key: conftest.KeyPair, registry: harness.Registry | None = None
    ) -> None:
        self.cosign.sign(image, key=key.private, ca_file=(registry or self.registry).ca_file)


@pytest.fixture
def world(
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
    registry: harness.Registry,
    cosign: harness.Cosign,
    keys: conftest.Keys,
) -> World:
    return World(capsys, tmp_path, registry, cosign, keys)


@pytest.fixture
def signed(world: World, request: pytest.FixtureRequest) -> tuple[str, str]:
    """A freshly pushed image signed by the trusted key: (repository, digest)."""
    repository = f"acme/{request.node.name.lower().replace('_', '-')}"
    digest = world.registry.push_image(repository, "v1", content=request.node.name)
    world.sign(f"{world.registry.host}/{repository}@{digest}", key=world.keys.trusted)
    return repository, digest


def test_signed_image_passes_and_cosign_agrees(world: World, signed: tuple[str, str]) -> None:
    repository, digest = signed
    image = f"{world.registry.host}/{repository}@{digest}"
    verified = world.cosign.verify(
        image, public_key=world.keys.trusted.public, ca_file=world.registry.ca_file
    )
    assert "cosign container image signature" in verified
    code, out = world.check(image)
    assert code == manifestcheck.EXIT_OK, out
    assert "PASS" in out


def test_tag_is_resolved_to_its_signed_digest(world: World, signed: tuple[str, str]) -> None:
    repository, _ = signed
    code, out = world.check(f"{world.registry.host}/{repository}:v1")
    assert code == manifestcheck.EXIT_OK, out


def test_unsigned_image_is_denied(world: World) -> None:
    digest = world.registry.push_image("acme/unsigned", "v1", content="unsigned")
    code, out = world.check(f"{world.registry.host}/acme/unsigned:v1")
    assert code == manifestcheck.EXIT_DENIED
    assert "ClusterContainerPolicy/signed-images" in out
    assert "imageSignatures" in out
    assert "spec.containers[0].image" in out
    assert f"(digest {digest}) has no cosign signature" in out


def test_signature_by_another_key_is_denied(world: World) -> None:
    digest = world.registry.push_image("acme/other-key", "v1", content="other key")
    image = f"{world.registry.host}/acme/other-key@{digest}"
    world.sign(image, key=world.keys.other)
    code, out = world.check(image)
    assert code == manifestcheck.EXIT_DENIED
    assert "found 0: a signature does not verify with any trusted key" in out


def test_tampered_payload_is_denied(world: World, signed: tuple[str, str]) -> None:
    repository, digest = signed
    world.registry.tamper_signature(repository, digest)
    code, out = world.check(f"{world.registry.host}/{repository}@{digest}")
    assert code == manifestcheck.EXIT_DENIED
    assert "its payload was altered after signing" in out


def test_digest_swapped_behind_a_tag_is_denied(world: World, signed: tuple[str, str]) -> None:
    repository, signed_digest = signed
    registry = world.registry
    swapped = registry.push_image(repository, "v1", content="swapped in later")
    image = f"{registry.host}/{repository}:v1"
    code, out = world.check(image)
    assert code == manifestcheck.EXIT_DENIED
    assert f"(digest {swapped}) has no cosign signature" in out
    # The attacker also copies the old signature to the new digest's signature tag.
    registry.copy_tag(
        repository,
        signed_digest.replace(":", "-") + ".sig",
        swapped.replace(":", "-") + ".sig",
    )
    code, out = world.check(image)
    assert code == manifestcheck.EXIT_DENIED
    assert f"is for digest {signed_digest}, not this image's {swapped}" in out


def test_registry_down_is_denied_then_passes_once_back(world: World, bin_dir: pathlib.Path) -> None:
    workdir = world.tmp_path / "registry"
    workdir.mkdir()
    own = harness.Registry(bin_dir=bin_dir, workdir=workdir)
    with own:
        digest = own.push_image("acme/flaky", "v1", content="flaky")
        image = f"{own.host}/acme/flaky@{digest}"
        world.sign(image, key=world.keys.trusted, registry=own)
    code, out = world.check(image, registry=own)
    assert code == manifestcheck.EXIT_DENIED
    assert f"registry {own.host} unreachable (connection refused)" in out
    with own:
        code, out = world.check(image, registry=own)
    assert code == manifestcheck.EXIT_OK, out


def test_untrusted_registry_certificate_is_denied(world: World, signed: tuple[str, str]) -> None:
    repository, digest = signed
    code, out = world.check(f"{world.registry.host}/{repository}@{digest}", ca=False)
    assert code == manifestcheck.EXIT_DENIED
    assert "is not trusted" in out
    assert "CA bundle" in out


def test_without_verify_images_a_covered_image_fails_closed(
    world: World, signed: tuple[str, str]
) -> None:
    repository, digest = signed
    code, out = world.check(f"{world.registry.host}/{repository}@{digest}", verify=False)
    assert code == manifestcheck.EXIT_DENIED
    assert "was not verified" in out
    assert "--verify-images" in out


def test_images_outside_the_repositories_are_not_checked(world: World) -> None:
    code, out = world.check("registry.example.com/elsewhere/app:1")
    assert code == manifestcheck.EXIT_OK, out


def test_vulnerability_attestations_are_checked_too(world: World, signed: tuple[str, str]) -> None:
    repository, digest = signed
    image = f"{world.registry.host}/{repository}@{digest}"
    wanted: dict[str, object] = {"maxAge": "1d", "failOnSeverity": "critical"}
    code, out = world.check(image, vulnerabilities=wanted)
    assert code == manifestcheck.EXIT_DENIED
    assert "has no vulnerability attestation" in out
    finished = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    world.cosign.attest_vulnerabilities(
        image,
        key=world.keys.trusted.private,
        ca_file=world.registry.ca_file,
        predicate=harness.vuln_predicate(finished=finished, findings={"CVE-2024-1": "HIGH"}),
    )
    code, out = world.check(image, vulnerabilities=wanted)
    assert code == manifestcheck.EXIT_OK, out
    code, out = world.check(image, vulnerabilities={**wanted, "failOnSeverity": "high"})
    assert code == manifestcheck.EXIT_DENIED
    assert "at or above high: CVE-2024-1 (high)" in out
