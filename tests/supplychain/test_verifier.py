"""The webhook's long-lived verifier against the real registry: cache, coalescing, deadline."""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import secrets
import threading
from collections.abc import Iterator

import pytest

from tests.supplychain import conftest, harness
from webhook import policy, supplychain
from webhook.policy import signatures
from webhook.supplychain import cosign, verifier


@dataclasses.dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass(frozen=True)
class Setup:
    registry: harness.Registry
    cosign: harness.Cosign
    keys: conftest.Keys
    policies: tuple[policy.CompiledPolicy, ...]
    settings: supplychain.registry.Settings

    def signed(self) -> str:
        repository = f"acme/v-{secrets.token_hex(4)}"
        digest = self.registry.push_image(repository, "v1", content=repository)
        image = f"{self.registry.host}/{repository}@{digest}"
        self.cosign.sign(image, key=self.keys.trusted.private, ca_file=self.registry.ca_file)
        return image


@pytest.fixture(scope="module")
def setup(registry: harness.Registry, cosign: harness.Cosign, keys: conftest.Keys) -> Setup:
    compiled = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "signed"},
            "spec": {"rules": {"imageSignatures": {"keys": [keys.trusted.public_pem]}}},
        }
    )
    settings = supplychain.registry.Settings(ca_file=str(registry.ca_file), timeout=10.0)
    return Setup(registry, cosign, keys, (compiled,), settings)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def checker(setup: Setup, clock: Clock) -> Iterator[verifier.Verifier]:
    made = verifier.Verifier(setup.settings, cache_size=2, ttl=60.0, clock=clock)
    yield made
    made.close()


def _results(found: verifier.Verification) -> list[str]:
    return [o.result for o in found.outcomes]


def test_a_verified_digest_is_cached_until_its_ttl(
    setup: Setup, checker: verifier.Verifier, clock: Clock
) -> None:
    image = setup.signed()
    assert _results(checker.verify([image], setup.policies)) == ["signed"]
    again = checker.verify([image], setup.policies)
    assert _results(again) == ["cached"]
    assert again.evidence[image].signatures[0].key is not None
    clock.now += 61
    assert _results(checker.verify([image], setup.policies)) == ["signed"]


def test_the_cache_keeps_only_its_size(setup: Setup, checker: verifier.Verifier) -> None:
    images = [setup.signed() for _ in range(3)]
    assert _results(checker.verify(images, setup.policies)) == ["signed"] * 3
    assert checker.cached == 2


def test_failures_are_not_cached(setup: Setup, checker: verifier.Verifier) -> None:
    digest = setup.registry.push_image("acme/unsigned-v", "v1", content="unsigned")
    image = f"{setup.registry.host}/acme/unsigned-v@{digest}"
    assert _results(checker.verify([image], setup.policies)) == ["unsigned"]
    assert _results(checker.verify([image], setup.policies)) == ["unsigned"]
    assert checker.cached == 0


def test_concurrent_lookups_of_one_digest_are_coalesced(
    setup: Setup, checker: verifier.Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = setup.signed()
    tag = image.split("@")[0] + ":v1"
    calls: list[str] = []
    release = threading.Event()
    real_verify = cosign.verify
    real_get = verifier._Cache.get
    misses = threading.Semaphore(0)

    def slow_verify(*args: object, **kwargs: object) -> object:
        calls.append("verify")
        release.wait(10)
        return real_verify(*args, **kwargs)  # type: ignore[arg-type]

    def counted_get(self: object, key: object) -> object:
        found = real_get(self, key)  # type: ignore[arg-type]
        if found is None:
            misses.release()
        return found

    monkeypatch.setattr(cosign, "verify", slow_verify)
    monkeypatch.setattr(verifier._Cache, "get", counted_get)
    found: list[verifier.Verification] = []
    threads = [
        threading.Thread(target=lambda i=i: found.append(checker.verify([i], setup.policies)))
        for i in (image, tag)
    ]
    for thread in threads:
        thread.start()
    # Both lookups missed the cache by digest (the tag one after resolving it): both are
    # past the cache and about to share one verification.
    for _ in range(3):  # the pinned image also misses once before the pool is used
        assert misses.acquire(timeout=10)
    threading.Event().wait(0.2)
    release.set()
    for thread in threads:
        thread.join(10)
    assert calls == ["verify"]
    assert sorted(r for f in found for r in _results(f)) == ["signed", "signed"]


def test_an_image_not_verified_in_time_is_evidence_of_failure(
    setup: Setup, checker: verifier.Verifier
) -> None:
    image = setup.signed()
    found = checker.verify([image], setup.policies, timeout=0.000001)
    assert _results(found) == ["error"]
    assert "did not complete the verification within" in found.evidence[image].failure


def test_a_kept_connection_the_registry_dropped_is_replaced(
    setup: Setup, tmp_path: pathlib.Path
) -> None:
    own = harness.Registry(bin_dir=harness.binaries(), workdir=tmp_path)
    checker = verifier.Verifier(
        supplychain.registry.Settings(ca_file=str(own.ca_file), timeout=10.0), cache_size=0
    )
    try:
        with own:
            digest = own.push_image("acme/restarted", "v1", content="restarted")
            image = f"{own.host}/acme/restarted@{digest}"
            setup.cosign.sign(image, key=setup.keys.trusted.private, ca_file=own.ca_file)
            assert _results(checker.verify([image], setup.policies)) == ["signed"]
        with own:  # the same registry again: every kept connection is now closed
            assert _results(checker.verify([image], setup.policies)) == ["signed"]
    finally:
        checker.close()


@dataclasses.dataclass
class Wall:
    now: datetime.datetime = dataclasses.field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )

    def __call__(self) -> datetime.datetime:
        return self.now


def _scanned_policy(keys: conftest.Keys) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "scanned"},
            "spec": {
                "rules": {
                    "imageSignatures": {
                        "keys": [keys.trusted.public_pem],
                        "vulnerabilities": {"maxAge": "7d"},
                    }
                }
            },
        }
    )


def test_a_cached_attestation_is_judged_again_against_the_clock(setup: Setup, clock: Clock) -> None:
    wall = Wall()
    scanned = (_scanned_policy(setup.keys),)
    checker = verifier.Verifier(setup.settings, ttl=3600.0, clock=clock, wall=wall)
    try:
        image = setup.signed()
        # Verified for signatures only first: that result does not stand in for a scan.
        assert _results(checker.verify([image], setup.policies)) == ["signed"]
        setup.cosign.attest_vulnerabilities(
            image,
            key=setup.keys.trusted.private,
            ca_file=setup.registry.ca_file,
            predicate=harness.vuln_predicate(finished=wall.now - datetime.timedelta(days=6)),
        )
        first = checker.verify([image], scanned)
        assert _results(first) == ["signed"]
        assert first.evidence[image].attestations is not None
        assert len(first.evidence[image].attestations) == 1
        assert _results(checker.verify([image], scanned)) == ["cached"]
        # Two days on, the six-day-old scan is too old: the entry is dropped and looked up
        # again, so the decision sees the scan as it is in the registry now.
        wall.now += datetime.timedelta(days=2)
        later = checker.verify([image], scanned)
        assert _results(later) == ["signed"]
        assert checker.cached == 1  # only the signatures-only entry
        settings = scanned[0].image_signatures
        assert settings is not None
        failure = signatures.scan_failure(settings, later.evidence[image], now=wall.now)
        assert failure is not None
        assert "longer ago than maxAge 7d" in failure.message
        # A new scan is seen at once, not after the cache's ttl.
        setup.cosign.attest_vulnerabilities(
            image,
            key=setup.keys.trusted.private,
            ca_file=setup.registry.ca_file,
            predicate=harness.vuln_predicate(finished=wall.now),
        )
        fresh = checker.verify([image], scanned)
        assert _results(fresh) == ["signed"]
        assert signatures.scan_failure(settings, fresh.evidence[image], now=wall.now) is None
        assert _results(checker.verify([image], scanned)) == ["cached"]
    finally:
        checker.close()


def test_a_result_verified_with_a_namespaces_credentials_serves_that_namespace_only(
    setup: Setup, checker: verifier.Verifier
) -> None:
    image = setup.signed()
    credential = supplychain.registry.Credential("puller", "not-needed-here")
    team_a = verifier.Access(owner="team-a", credentials={setup.registry.host: credential})
    team_b = verifier.Access(owner="team-b", credentials={setup.registry.host: credential})
    elsewhere = verifier.Access(owner="team-a", credentials={"other.example:5000": credential})
    assert _results(checker.verify([image], setup.policies, access=team_a)) == ["signed"]
    assert _results(checker.verify([image], setup.policies, access=team_a)) == ["cached"]
    assert _results(checker.verify([image], setup.policies, access=team_b)) == ["signed"]
    # Without credentials for this registry (none at all, or only for another), the result
    # verified with them is not served.
    assert _results(checker.verify([image], setup.policies)) == ["signed"]
    assert _results(checker.verify([image], setup.policies, access=elsewhere)) == ["cached"]
