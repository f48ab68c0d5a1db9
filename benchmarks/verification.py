"""What ``imageSignatures`` verification adds to one review, cached and uncached.

Starts the test harness's registry (real distribution, TLS on 127.0.0.1),
pushes three small images and signs them with the real cosign CLI, then
times the webhook's own path (``server.verification.evidence``: the images
to verify, then ``supplychain.verifier.Verifier``) for a Pod running the
three images by digest:

* cached: every digest already verified (the positive-result cache);
  target <= 0.1 ms per review;
* uncached: a verifier with no cache (``cache_size=0``) kept between
  reviews, as the webhook keeps its own, so connections and tokens are
  reused: three images verified in parallel; target <= 50 ms p50;
* cold: a new verifier for each review (new TLS connections), for contrast.

With ``--attested`` each image also gets a clean vulnerability scan attested
with ``cosign attest --type vuln`` and the policy requires it
(``vulnerabilities: {maxAge: 7d}``): an uncached review then also reads each
digest's ``.att`` manifest and envelope, and a cached one judges the scan's
age again.

Run: ``.venv/bin/python benchmarks/verification.py [--rounds N] [--attested]`` (needs the
binaries of ``tools/supplychain/build.sh``, built on first use). Figures are
from a shared machine: noisy, compare medians.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.supplychain import harness  # noqa: E402
from webhook import admission, policy, supplychain  # noqa: E402
from webhook.server import metrics, verification  # noqa: E402
from webhook.supplychain import verifier  # noqa: E402

CACHED_TARGET_MS = 0.1
UNCACHED_TARGET_MS = 50.0


def _request(images: list[str]) -> admission.Request:
    return admission.parse(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "bench",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": "team-a",
                "operation": "CREATE",
                "userInfo": {"username": "bench"},
                "object": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "app", "namespace": "team-a"},
                    "spec": {
                        "containers": [
                            {"name": f"c{i}", "image": image} for i, image in enumerate(images)
                        ]
                    },
                },
            },
        }
    )


def _timed(call: Callable[[], policy.EvidenceMap], rounds: int, *, attested: bool) -> list[float]:
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        evidence = call()
        spent.append((time.perf_counter() - started) * 1000)
        bad = [
            e
            for e in evidence.values()
            if e.failure or not e.signatures or (attested and not e.attestations)
        ]
        if bad:
            raise SystemExit(f"verification failed: {bad[0]}")
    return spent


def _line(name: str, spent: list[float], target: float | None) -> str:
    p50 = statistics.median(spent)
    p90 = statistics.quantiles(spent, n=10)[-1]
    verdict = "" if target is None else (" met" if p50 <= target else " NOT met")
    goal = "" if target is None else f" (target p50 <= {target:g} ms:{verdict})"
    return f"{name:<40} p50 {p50:8.3f} ms   p90 {p90:8.3f} ms   n={len(spent)}{goal}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="reviews timed per case (50)")
    parser.add_argument(
        "--attested", action="store_true", help="also require an attested vulnerability scan"
    )
    args = parser.parse_args()
    rule: dict[str, object] = {}
    bin_dir = harness.binaries()
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        (work / "cosign").mkdir()
        (work / "registry").mkdir()
        cosign = harness.Cosign(bin_dir=bin_dir, workdir=work / "cosign")
        private, public_pem = cosign.generate_key_pair("bench")
        with harness.Registry(bin_dir=bin_dir, workdir=work / "registry") as reg:
            images = []
            for name in ("web", "sidecar", "logs"):
                digest = reg.push_image(f"bench/{name}", "v1", content=name)
                image = f"{reg.host}/bench/{name}@{digest}"
                cosign.sign(image, key=private, ca_file=reg.ca_file)
                if args.attested:
                    cosign.attest_vulnerabilities(
                        image,
                        key=private,
                        ca_file=reg.ca_file,
                        predicate=harness.vuln_predicate(
                            finished=datetime.datetime.now(datetime.UTC)
                        ),
                    )
                    rule["vulnerabilities"] = {"maxAge": "7d"}
                images.append(image)
            policies = [
                policy.compile(
                    {
                        "apiVersion": "bulkhead.dev/v1alpha1",
                        "kind": "ClusterContainerPolicy",
                        "metadata": {"name": "signed"},
                        "spec": {
                            "rules": {
                                "imageSignatures": {
                                    "keys": [public_pem],
                                    "repositories": [f"{reg.host}/*"],
                                    **rule,
                                }
                            }
                        },
                    }
                )
            ]
            request = _request(images)
            settings = supplychain.registry.Settings(ca_file=str(reg.ca_file))
            recorder = metrics.Recorder()

            def review(checker: verifier.Verifier) -> Callable[[], policy.EvidenceMap]:
                def call() -> policy.EvidenceMap:
                    found = verification.evidence(
                        checker,
                        recorder,
                        request,
                        policies,
                        namespace_labels={},
                        now=datetime.datetime.now(datetime.UTC),
                        timeout=5.0,
                    )
                    recorder.take()
                    return found

                return call

            kept = verifier.Verifier(settings)
            review(kept)()  # fills the cache
            cached = _timed(review(kept), args.rounds * 20, attested=args.attested)
            uncached_verifier = verifier.Verifier(settings, cache_size=0)
            review(uncached_verifier)()  # opens the connections once
            uncached = _timed(review(uncached_verifier), args.rounds, attested=args.attested)

            def cold() -> policy.EvidenceMap:
                fresh = verifier.Verifier(settings, cache_size=0)
                try:
                    return review(fresh)()
                finally:
                    fresh.close()

            cold_runs = _timed(cold, max(5, args.rounds // 5), attested=args.attested)
            kept.close()
            uncached_verifier.close()
    what = "signed and attested" if args.attested else "signed"
    print(f"Pod with 3 {what} images by digest, registry {reg.host} (TLS, loopback)")
    print(_line("cached (added per review)", cached, CACHED_TARGET_MS))
    print(_line("uncached, connections reused", uncached, UNCACHED_TARGET_MS))
    print(_line("uncached, new connections (contrast)", cold_runs, None))


if __name__ == "__main__":
    main()
