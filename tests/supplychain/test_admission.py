"""``imageSignatures`` at admission: the real apiserver calls ``bulkhead serve``, which verifies.

A real kube-apiserver sends each Pod to a real ``bulkhead serve`` whose
policy trusts one cosign key for the images of two loopback registries
(real distribution processes); every image is pushed and signed with the
real cosign CLI. A second policy also requires, for the repositories under
``scanned/``, a vulnerability attestation made with ``cosign attest --type
vuln`` by the same key. A Pod is "admitted" when ``kubectl create --dry-run=server``
succeeds (the webhook is called for dry runs like for any create).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import secrets
import urllib.request
from collections.abc import Iterator

import pytest

from devcluster import controlplane, registration, webhookserver
from tests.supplychain import conftest, harness

pytestmark = pytest.mark.cluster

WEBHOOK: str = "signatures.bulkhead.dev"
POLICY: str = "ClusterContainerPolicy/signed-images"
SCANNED: str = "ClusterContainerPolicy/scanned-images"
#: Allowed by the scanned-images policy until long after the tests, and one allowed until 2021.
ALLOWED_CVE: str = "CVE-2024-0001"
EXPIRED_CVE: str = "CVE-2020-0002"


def _pod(*images: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"app-{secrets.token_hex(3)}"},
        "spec": {
            "containers": [
                {"name": f"c{index}", "image": image} for index, image in enumerate(images)
            ]
        },
    }


@dataclasses.dataclass(frozen=True)
class Admission:
    """The webhook registered for one namespace, and the registries it verifies against."""

    cp: controlplane.ControlPlane
    namespace: str
    server: webhookserver.WebhookServer
    registry: harness.Registry
    flaky: harness.Registry
    cosign: harness.Cosign
    keys: conftest.Keys

    def create(self, *images: str) -> tuple[bool, str]:
        """Dry-run create a Pod running ``images``: (admitted, kubectl's stderr)."""
        result = self.cp.kubectl(
            "create",
            "--dry-run=server",
            "-n",
            self.namespace,
            "-f",
            "-",
            input_text=json.dumps(_pod(*images)),
            check=False,
        )
        return result.returncode == 0, result.stderr

    def denied(self, *images: str) -> str:
        admitted, stderr = self.create(*images)
        assert not admitted, f"{images} was admitted"
        assert f'admission webhook "{WEBHOOK}" denied the request' in stderr, stderr
        assert POLICY in stderr, stderr
        assert "imageSignatures" in stderr, stderr
        return stderr

    def signed(self, repository: str, *, key: conftest.KeyPair | None = None) -> str:
        """Push a new image to ``registry`` and sign its digest: the digest reference."""
        digest = self.registry.push_image(repository, "v1", content=secrets.token_hex(8))
        image = f"{self.registry.host}/{repository}@{digest}"
        signer = key or self.keys.trusted
        self.cosign.sign(image, key=signer.private, ca_file=self.registry.ca_file)
        return image

    def attested(
        self,
        repository: str,
        *,
        age: datetime.timedelta = datetime.timedelta(hours=1),
        findings: dict[str, str] | None = None,
        key: conftest.KeyPair | None = None,
    ) -> str:
        """A signed image whose scan (``findings``, finished ``age`` ago) is attested."""
        image = self.signed(repository)
        finished = datetime.datetime.now(datetime.UTC) - age
        self.cosign.attest_vulnerabilities(
            image,
            key=(key or self.keys.trusted).private,
            ca_file=self.registry.ca_file,
            predicate=harness.vuln_predicate(finished=finished, findings=findings),
        )
        return image

    def scan_denied(self, *images: str) -> str:
        admitted, stderr = self.create(*images)
        assert not admitted, f"{images} was admitted"
        assert SCANNED in stderr, stderr
        assert "imageSignatures" in stderr, stderr
        assert "spec.containers[0].image" in stderr, stderr
        assert "fails the vulnerability check" in stderr, stderr
        return stderr

    def metric(self, result: str) -> float:
        url = f"http://127.0.0.1:{self.server.probe_port}/metrics"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=5) as response:
            text = response.read().decode()
        found = re.search(
            rf'^bulkhead_image_verifications_total\{{result="{result}"\}} (\S+)$', text, re.M
        )
        return float(found.group(1)) if found else 0.0


@pytest.fixture(scope="module")
def admission(
    control_plane: controlplane.ControlPlane,
    registry: harness.Registry,
    cosign: harness.Cosign,
    keys: conftest.Keys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Admission]:
    workdir = tmp_path_factory.mktemp("admission")
    (workdir / "flaky").mkdir()
    flaky = harness.Registry(bin_dir=harness.binaries(), workdir=workdir / "flaky")
    bundle = workdir / "registries-ca.pem"
    bundle.write_bytes(registry.ca_file.read_bytes() + flaky.ca_file.read_bytes())
    scanned = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "scanned-images"},
        "spec": {
            "rules": {
                "imageSignatures": {
                    "keys": [keys.trusted.public_pem],
                    "repositories": [f"{registry.host}/scanned/*"],
                    "vulnerabilities": {
                        "maxAge": "7d",
                        "failOnSeverity": "high",
                        "allow": [
                            {"id": ALLOWED_CVE, "expires": "2999-12-31", "reason": "unused"},
                            {"id": EXPIRED_CVE, "expires": "2021-01-31"},
                        ],
                    },
                }
            }
        },
    }
    server = harness.signing_webhook(
        workdir,
        public_pem=keys.trusted.public_pem,
        repositories=[f"{registry.host}/*", f"{flaky.host}/*"],
        extra_args=("--registry-ca-file", str(bundle)),
        also=(scanned,),
    )
    unsigned = registry.push_image("acme/probe", "v1", content="probe")
    with (
        server,
        control_plane.namespace() as namespace,
        registration.registered_for(
            control_plane,
            namespace=namespace,
            webhook_name=WEBHOOK,
            validate_url=server.validate_url,
            ca_pem=server.serving.ca_pem,
            probe=_pod(f"{registry.host}/acme/probe@{unsigned}"),
        ),
    ):
        yield Admission(control_plane, namespace, server, registry, flaky, cosign, keys)


def test_signed_images_are_admitted_by_digest_and_by_tag(admission: Admission) -> None:
    first = admission.signed("acme/signed-one")
    second = admission.signed("acme/signed-two")
    tagged = f"{admission.registry.host}/acme/signed-one:v1"
    admitted, stderr = admission.create(first, second, tagged)
    assert admitted, stderr


def test_unsigned_image_is_denied_naming_the_digest_field_and_fix(admission: Admission) -> None:
    digest = admission.registry.push_image("acme/unsigned", "v1", content="unsigned")
    stderr = admission.denied(f"{admission.registry.host}/acme/unsigned:v1")
    assert "spec.containers[0].image" in stderr
    assert f"(digest {digest}) has no cosign signature" in stderr
    assert "cosign sign --key" in stderr


def test_image_signed_by_another_key_is_denied(admission: Admission) -> None:
    image = admission.signed("acme/other-key", key=admission.keys.other)
    stderr = admission.denied(image)
    assert "a signature does not verify with any trusted key" in stderr


def test_tampered_payload_is_denied(admission: Admission) -> None:
    image = admission.signed("acme/tampered")
    repository, _, digest = image.partition("/")[2].partition("@")
    admission.registry.tamper_signature(repository, digest)
    stderr = admission.denied(image)
    assert "its payload was altered after signing" in stderr


def test_digest_swapped_behind_a_verified_tag_is_denied(admission: Admission) -> None:
    signed = admission.signed("acme/swapped")
    tagged = f"{admission.registry.host}/acme/swapped:v1"
    admitted, stderr = admission.create(tagged)
    assert admitted, stderr
    # The tag now points at another image; the signed digest stays cached.
    swapped = admission.registry.push_image("acme/swapped", "v1", content="swapped in later")
    stderr = admission.denied(tagged)
    assert f"(digest {swapped}) has no cosign signature" in stderr
    admitted, stderr = admission.create(signed)
    assert admitted, stderr


def test_registry_down_is_denied_then_admitted_once_back(admission: Admission) -> None:
    flaky = admission.flaky
    with flaky:
        digest = flaky.push_image("acme/flaky", "v1", content="flaky")
        image = f"{flaky.host}/acme/flaky@{digest}"
        admission.cosign.sign(image, key=admission.keys.trusted.private, ca_file=flaky.ca_file)
    errors = admission.metric("error")
    stderr = admission.denied(image)
    assert f"registry {flaky.host} unreachable (connection refused)" in stderr
    assert admission.metric("error") > errors
    with flaky:
        admitted, stderr = admission.create(image)
        assert admitted, stderr
    # Verified once, the digest is served from the cache while the registry is down again.
    cached = admission.metric("cached")
    admitted, stderr = admission.create(image)
    assert admitted, stderr
    assert admission.metric("cached") > cached


def test_verifications_are_counted_by_result(admission: Admission) -> None:
    image = admission.signed("acme/counted")
    signed = admission.metric("signed")
    admitted, stderr = admission.create(image)
    assert admitted, stderr
    assert admission.metric("signed") == signed + 1


def test_image_with_a_recent_clean_attested_scan_is_admitted(admission: Admission) -> None:
    image = admission.attested("scanned/clean", findings={"CVE-2024-9999": "MEDIUM"})
    admitted, stderr = admission.create(image)
    assert admitted, stderr


def test_image_without_an_attestation_is_denied(admission: Admission) -> None:
    image = admission.signed("scanned/unattested")
    stderr = admission.scan_denied(image)
    assert "has no vulnerability attestation" in stderr
    assert "cosign attest --type vuln" in stderr


def test_attestation_by_another_key_is_denied(admission: Admission) -> None:
    image = admission.attested("scanned/other-key", key=admission.keys.other)
    stderr = admission.scan_denied(image)
    assert "an attestation does not verify with any trusted key" in stderr


def test_too_old_scan_is_denied(admission: Admission) -> None:
    image = admission.attested("scanned/old", age=datetime.timedelta(days=30))
    stderr = admission.scan_denied(image)
    assert "longer ago than maxAge 7d" in stderr
    assert "scan the image again" in stderr


def test_critical_finding_is_denied_naming_it(admission: Admission) -> None:
    image = admission.attested(
        "scanned/critical", findings={"CVE-2024-6666": "CRITICAL", "CVE-2024-7777": "LOW"}
    )
    stderr = admission.scan_denied(image)
    assert "1 finding(s) at or above high: CVE-2024-6666 (critical)" in stderr
    assert "CVE-2024-7777" not in stderr
    assert "imageSignatures.vulnerabilities.allow" in stderr


def test_allow_listed_finding_is_admitted(admission: Admission) -> None:
    image = admission.attested("scanned/allowed", findings={ALLOWED_CVE: "CRITICAL"})
    admitted, stderr = admission.create(image)
    assert admitted, stderr


def test_expired_allow_list_entry_no_longer_allows(admission: Admission) -> None:
    image = admission.attested("scanned/expired", findings={EXPIRED_CVE: "HIGH"})
    stderr = admission.scan_denied(image)
    assert f"{EXPIRED_CVE} (high)" in stderr
    assert f"the allow entry for {EXPIRED_CVE} expired at 2021-02-01T00:00:00Z" in stderr


def test_a_new_scan_replaces_a_failing_one(admission: Admission) -> None:
    image = admission.attested("scanned/rescanned", findings={"CVE-2024-8888": "HIGH"})
    admission.scan_denied(image)
    admission.cosign.attest_vulnerabilities(
        image,
        key=admission.keys.trusted.private,
        ca_file=admission.registry.ca_file,
        predicate=harness.vuln_predicate(finished=datetime.datetime.now(datetime.UTC)),
    )
    admitted, stderr = admission.create(image)
    assert admitted, stderr
