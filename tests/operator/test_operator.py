"""``bulkhead operator`` against the real apiserver, as its own ServiceAccount.

Policy status (Ready, Invalid with the compile errors, observedGeneration
following every edit, exclusions expiring and expired as time passes, with
the earliest expiry as a metric), certificate issuance into the Secrets and caBundle
injection, a forced rotation with second-long lifetimes, and kill -9 in
the middle of work followed by a restart that converges without losing or
redoing anything. The operator authenticates with a TokenRequest token of
the ``bulkhead-operator`` ServiceAccount bound only by
``manifests/rbac/operator.yaml``: a verb missing there fails these tests.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from typing import Any

import pytest

from devcluster import installation
from tests import exposition
from tests.operator.conftest import OperatorFactory
from webhook.operator import pki

pytestmark = pytest.mark.cluster

#: Fast rotation, with the overlap alone retiring an old CA (no endpoint to probe).
FAST = (*installation.FAST_ROTATION, "--probe-endpoint=none")


def _policy(name: str, spec: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    kind = "ClusterContainerPolicy"
    if namespace:
        metadata["namespace"] = namespace
        kind = "ContainerPolicy"
    return {"apiVersion": "bulkhead.dev/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def _status(install: installation.Install, document: dict[str, Any]) -> dict[str, Any] | None:
    metadata = document["metadata"]
    return installation.get_json(
        install.cp,
        installation.policy_path(document["kind"], metadata["name"], metadata.get("namespace")),
    )


def _settled(
    install: installation.Install, document: dict[str, Any], *, ready: str
) -> dict[str, Any]:
    """Wait until the object's status describes its current generation with Ready=``ready``."""

    def probe() -> dict[str, Any] | None:
        found = _status(install, document)
        condition = installation.ready_condition(found)
        if found is None or condition is None:
            return None
        generation = found["metadata"]["generation"]
        if (
            found["status"].get("observedGeneration") == generation
            and condition.get("observedGeneration") == generation
            and condition["status"] == ready
        ):
            return found
        return None

    return installation.wait_for(
        probe, timeout=60, what=f"{document['metadata']['name']} Ready={ready}"
    )


def test_policy_status_follows_every_edit(
    install: installation.Install, operators: OperatorFactory
) -> None:
    operators("--probe-endpoint=none")
    name = f"lifecycle-{install.suffix}"
    document = _policy(name, {"profile": {"level": "baseline"}})
    install.cp.apply(document)
    found = _settled(install, document, ready="True")
    condition = installation.ready_condition(found)
    assert condition is not None
    assert condition["reason"] == "Compiled"
    assert condition["message"] == f"ClusterContainerPolicy/{name}: Deny, profile baseline:latest"
    assert found["status"]["observedGeneration"] == 1
    since = condition["lastTransitionTime"]

    # A bad edit the schema cannot see: Ready=False with every compile error and its path.
    document["spec"] = {
        "rules": {"hostPath": {"allowedPrefixes": ["var/log"]}, "hostPorts": {"allowed": [0]}}
    }
    install.cp.apply(document)
    found = _settled(install, document, ready="False")
    condition = installation.ready_condition(found)
    assert condition is not None
    assert condition["reason"] == "Invalid"
    lines = condition["message"].splitlines()
    assert lines == [
        'spec.rules.hostPath.allowedPrefixes[0]: "var/log" must be an absolute path '
        'without ".." segments',
        "spec.rules.hostPorts.allowed[0]: must be a port number from 1 to 65535, not the number 0",
    ]
    assert found["status"]["observedGeneration"] == 2
    assert condition["lastTransitionTime"] >= since

    # Fixed again; a label change (no new generation) changes nothing.
    document["spec"] = {"action": "Audit", "rules": {"hostPath": False}}
    install.cp.apply(document)
    found = _settled(install, document, ready="True")
    assert found["status"]["observedGeneration"] == 3
    install.cp.kubectl("label", "ccp", name, "team=platform")
    time.sleep(1)
    assert _status(install, document)["status"] == found["status"]  # type: ignore[index]

    # The namespaced kind, and the Events posted on the transitions.
    local = _policy("local", {"rules": {"hostPorts": "open"}}, namespace=install.namespace)
    install.cp.apply(local)
    found = _settled(install, local, ready="False")
    assert "spec.rules.hostPorts: must be false" in installation.ready_condition(found)["message"]  # type: ignore[index]

    def reasons() -> set[str] | None:
        events = install.cp.kubectl("get", "events", "-n", install.namespace, "-o", "json").stdout
        seen = {item["reason"] for item in json.loads(events)["items"]}
        return seen if "Invalid" in seen else None

    installation.wait_for(reasons, timeout=60, what="an Invalid event")
    install.cp.kubectl("delete", "ccp", name)


def test_expiring_exclusions_listed_in_status_as_time_passes(
    install: installation.Install, operators: OperatorFactory
) -> None:
    operator = operators("--probe-endpoint=none", "--check-interval=1s", "--exclusion-window=1h")
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    # far enough ahead that the first status (operator start, apply, settle) comes before it
    # on a loaded machine; the sweep after it is waited for
    soon = (now + datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (now + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = f"expiring-{install.suffix}"
    document = _policy(
        name,
        {
            "rules": {"privileged": False},
            "exclude": [
                {"namespaces": ["legacy"], "reason": "migration", "expires": later},
                {"namespaces": ["batch"], "reason": "ticket 42", "expires": soon},
                {"namespaces": ["old"], "expires": "2020-01-01"},  # through that day
                {"namespaces": ["kube-system"]},
            ],
        },
    )
    install.cp.apply(document)
    try:
        found = _settled(install, document, ready="True")
        assert found["status"]["exclusions"] == {
            "expiring": [{"index": 1, "expires": soon, "reason": "ticket 42"}],
            "expired": [{"index": 2, "expires": "2020-01-02T00:00:00Z"}],
        }
        # time passes, no edit: the sweep moves entry 1 to expired
        installation.wait_for(
            lambda: (
                (_status(install, document) or {}).get("status", {}).get("exclusions")
                == {
                    "expired": [
                        {"index": 2, "expires": "2020-01-02T00:00:00Z"},
                        {"index": 1, "expires": soon, "reason": "ticket 42"},
                    ]
                }
            ),
            timeout=90,
            what="the expired exclusion in status",
        )
        earliest = exposition.value(
            operator.metrics(),
            "bulkhead_exclusion_earliest_expiry_timestamp_seconds",
            policy=f"ClusterContainerPolicy/{name}",
        )
        assert earliest == datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC).timestamp()
    finally:
        install.cp.kubectl("delete", "ccp", name)
    installation.wait_for(
        lambda: f"ClusterContainerPolicy/{name}" not in operator.metrics(),
        timeout=60,
        what="the deleted policy's series gone",
    )


def _secret(install: installation.Install, name: str) -> dict[str, Any] | None:
    return installation.get_json(
        install.cp, f"/api/v1/namespaces/{install.namespace}/secrets/{name}"
    )


def _data(secret: dict[str, Any] | None, key: str) -> bytes:
    assert secret is not None
    return base64.b64decode(secret["data"][key])


def _bundles(install: installation.Install) -> list[bytes]:
    configuration = installation.get_json(
        install.cp, f"{installation.WEBHOOKS_PATH}/{install.webhook_configuration}"
    )
    assert configuration is not None
    return [
        base64.b64decode(webhook["clientConfig"].get("caBundle", ""))
        for webhook in configuration["webhooks"]
    ]


def test_certificates_issued_and_ca_bundle_injected(
    install: installation.Install, operators: OperatorFactory
) -> None:
    operator = operators("--probe-endpoint=none", "--extra-san=127.0.0.1", "--check-interval=1s")

    def issued() -> bool:
        tls = _secret(install, "bulkhead-webhook-tls")
        return tls is not None and all(_bundles(install))

    installation.wait_for(issued, timeout=60, what="the serving Secret and caBundle")
    tls = _secret(install, "bulkhead-webhook-tls")
    ca_secret = _secret(install, "bulkhead-webhook-ca")
    assert tls is not None
    assert ca_secret is not None
    assert tls["type"] == "kubernetes.io/tls"
    assert set(tls["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert set(ca_secret["data"]) == {"ca.crt", "ca.key"}

    serving = pki.KeyPair.load(_data(tls, "tls.crt"), _data(tls, "tls.key"))
    ca = pki.KeyPair.load(_data(ca_secret, "ca.crt"), _data(ca_secret, "ca.key"))
    ns = install.namespace
    assert set(serving.certificate.dns_names) == {
        "bulkhead",
        f"bulkhead.{ns}",
        f"bulkhead.{ns}.svc",
    }
    assert serving.certificate.ip_addresses == ("127.0.0.1",)
    assert serving.certificate.chains_to(ca.certificate)
    assert serving.key.curve.name == "secp256r1"
    assert ca.key.curve.name == "secp256r1"
    assert _data(tls, "ca.crt") == ca.certificate.pem
    assert _bundles(install) == [ca.certificate.pem, ca.certificate.pem]  # every webhook

    text = operator.metrics()
    expiry = serving.certificate.not_after.timestamp()
    name = "bulkhead_certificate_expiry_timestamp_seconds"
    assert exposition.value(text, name, certificate="serving") == expiry
    assert exposition.value(text, "bulkhead_ca_bundle_certificates") == 1

    # The operator never creates a webhook configuration it was not given.
    install.cp.kubectl("delete", "validatingwebhookconfiguration", install.webhook_configuration)
    operator.reconciled_after(time.time())
    assert (
        installation.get_json(
            install.cp, f"{installation.WEBHOOKS_PATH}/{install.webhook_configuration}"
        )
        is None
    )
    assert operator.healthy()


def _tls_state(install: installation.Install) -> tuple[pki.Certificate, list[str], list[str]]:
    """The served certificate, the Secret's bundle and the first webhook's caBundle.

    One consistent sample: the Secret and the webhook configuration are two
    reads, so the Secret is read again after the caBundle and the sample is
    taken only when it did not change in between (otherwise a rotation landing
    between the reads would pair a new certificate with an old bundle).
    """
    while True:
        tls = _secret(install, "bulkhead-webhook-tls")
        bundle = _bundles(install)[0]
        again = _secret(install, "bulkhead-webhook-tls")
        assert tls is not None
        assert again is not None
        if tls["metadata"]["resourceVersion"] == again["metadata"]["resourceVersion"]:
            break
    cert = pki.Certificate.load(_data(tls, "tls.crt"))
    secret_bundle = [c.fingerprint for c in pki.split_bundle(_data(tls, "ca.crt"))]
    published = pki.split_bundle(bundle)
    assert any(cert.chains_to(ca) for ca in published), "a certificate the apiserver cannot trust"
    return cert, secret_bundle, [c.fingerprint for c in published]


def test_forced_rotation_keeps_the_certificate_trusted(
    install: installation.Install, operators: OperatorFactory
) -> None:
    operators(*FAST)
    installation.wait_for(
        lambda: _secret(install, "bulkhead-webhook-tls"), timeout=60, what="first issuance"
    )
    first, _, published = _tls_state(install)
    first_ca = published[0]
    serials: set[str] = {first.fingerprint}
    max_bundle = 1
    deadline = time.monotonic() + 90  # a 15 s CA lifetime; generous for a loaded machine
    rotated = False
    while time.monotonic() < deadline:
        cert, secret_bundle, published = _tls_state(install)  # asserts trust on every sample
        serials.add(cert.fingerprint)
        max_bundle = max(max_bundle, len(published))
        if first_ca not in published and len(published) == 1 and len(serials) >= 3:
            rotated = True
            break
        time.sleep(0.2)
    assert rotated, f"no full CA rotation in 90 s: {len(serials)} certificates, bundle {published}"
    assert max_bundle == 2, "the old and new CA were never trusted together"
    assert secret_bundle == published


def test_killed_mid_work_restart_converges(
    install: installation.Install, operators: OperatorFactory
) -> None:
    documents = [
        _policy(f"burst-{install.suffix}-{i}", {"profile": {"level": "baseline"}})
        for i in range(12)
    ]
    first = operators("--probe-endpoint=none", log_name="first.log")
    installation.wait_for(
        lambda: _secret(install, "bulkhead-webhook-tls"), timeout=60, what="first issuance"
    )
    before_tls = _secret(install, "bulkhead-webhook-tls")
    before_ca = _secret(install, "bulkhead-webhook-ca")
    install.cp.apply(*documents)
    time.sleep(0.3)
    first.kill()  # SIGKILL mid-burst: no graceful shutdown of any kind

    # While it is down: edits (new generations), a policy broken, one deleted.
    for document in documents[:4]:
        document["spec"] = {"action": "Warn", "profile": {"level": "restricted"}}
    documents[4]["spec"] = {"rules": {"hostPorts": "nope"}}
    install.cp.apply(*documents[:5])
    install.cp.kubectl("delete", "ccp", documents[11]["metadata"]["name"])

    operators("--probe-endpoint=none", log_name="second.log")
    for document in documents[:4] + documents[5:11]:
        _settled(install, document, ready="True")
    broken = _settled(install, documents[4], ready="False")
    assert "spec.rules.hostPorts" in installation.ready_condition(broken)["message"]  # type: ignore[index]
    restricted = _status(install, documents[0])
    assert "Warn, profile restricted:latest" in installation.ready_condition(restricted)["message"]  # type: ignore[index]

    # Nothing lost, nothing redone: the same CA and serving certificate survive the restart.
    after_tls = _secret(install, "bulkhead-webhook-tls")
    after_ca = _secret(install, "bulkhead-webhook-ca")
    assert after_tls is not None
    assert before_tls is not None
    assert after_ca is not None
    assert before_ca is not None
    assert after_tls["data"] == before_tls["data"]
    assert after_ca["data"] == before_ca["data"]
    for document in documents[:11]:
        install.cp.kubectl("delete", "ccp", document["metadata"]["name"], "--wait=false")


def test_killed_during_a_ca_rotation_finishes_it(
    install: installation.Install, operators: OperatorFactory
) -> None:
    first = operators(*FAST, log_name="first.log")
    installation.wait_for(
        lambda: _secret(install, "bulkhead-webhook-tls"), timeout=60, what="first issuance"
    )
    _, _, published = _tls_state(install)
    old_ca = published[0]

    def overlapping() -> list[str] | None:
        _, _, now_published = _tls_state(install)
        return now_published if len(now_published) == 2 else None

    both = installation.wait_for(overlapping, timeout=25, interval=0.1, what="the CA overlap")
    first.kill()
    new_ca = next(fingerprint for fingerprint in both if fingerprint != old_ca)

    operators(*FAST, log_name="second.log")

    def finished() -> bool:
        _cert, _secret_bundle, now_published = _tls_state(install)
        return now_published[0] == new_ca and old_ca not in now_published

    installation.wait_for(finished, timeout=20, interval=0.2, what="the rotation to finish")
    ca_secret = _secret(install, "bulkhead-webhook-ca")
    assert pki.Certificate.load(_data(ca_secret, "ca.crt")).fingerprint in (
        new_ca,
        # or, if the new CA itself reached 2/3 meanwhile, its successor: never the old one
        _tls_state(install)[2][0],
    )
