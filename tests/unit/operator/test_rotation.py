"""The certificate plan: issuance, renewal at 2/3, CA overlap, retirement, idempotence."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from webhook.operator import pki, rotation

T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)
POLICY = rotation.Policy(
    dns_names=("bulkhead", "bulkhead.ns", "bulkhead.ns.svc"),
    ip_addresses=("127.0.0.1",),
    ca_lifetime=datetime.timedelta(seconds=600),
    cert_lifetime=datetime.timedelta(seconds=90),
    overlap=datetime.timedelta(seconds=10),
    skew=datetime.timedelta(seconds=0),
)


def _apply(
    plan: rotation.Plan, *, served: bool | None = None, published: bool = True
) -> rotation.Current:
    """What the cluster holds once ``plan`` is written (and the webhook reloaded if ``served``)."""
    return rotation.Current(
        ca=plan.ca,
        serving=plan.serving,
        bundle=plan.bundle,
        served=None if served is None else (plan.serving.certificate,),
        published=plan.bundle if published else (),
    )


def _bootstrap() -> rotation.Plan:
    return rotation.plan(rotation.Current(ca=None, serving=None), POLICY, now=T0)


def _serving(plan: rotation.Plan, *, now: datetime.datetime) -> pki.KeyPair:
    """A serving certificate for POLICY, issued at ``now`` by ``plan``'s CA."""
    return pki.new_serving(
        ca=plan.ca,
        dns_names=POLICY.dns_names,
        ip_addresses=POLICY.ip_addresses,
        now=now,
        lifetime=POLICY.cert_lifetime,
        skew=POLICY.skew,
    )


def test_bootstrap_issues_ca_and_serving_certificate() -> None:
    plan = _bootstrap()
    assert plan.ca_issued
    assert plan.serving_issued
    cert = plan.serving.certificate
    assert set(cert.dns_names) == set(POLICY.dns_names)
    assert cert.ip_addresses == ("127.0.0.1",)
    assert cert.chains_to(plan.ca.certificate)
    assert plan.ca.certificate.is_ca
    assert not cert.is_ca
    assert [c.fingerprint for c in plan.bundle] == [plan.ca.certificate.fingerprint]
    assert isinstance(plan.serving.key.curve, ec.SECP256R1)
    assert isinstance(plan.ca.key.curve, ec.SECP256R1)


def test_plan_is_idempotent() -> None:
    plan = _bootstrap()
    again = rotation.plan(_apply(plan), POLICY, now=T0 + 5 * SECOND)
    assert not again.ca_issued
    assert not again.serving_issued
    assert not again.retired
    assert again.serving.certificate == plan.serving.certificate
    assert again.reasons == ()


def test_serving_certificate_renews_at_two_thirds() -> None:
    plan = _bootstrap()
    before = rotation.plan(_apply(plan), POLICY, now=T0 + 59 * SECOND)
    assert not before.serving_issued
    after = rotation.plan(_apply(plan), POLICY, now=T0 + 60 * SECOND)
    assert after.serving_issued
    assert not after.ca_issued
    assert "2/3" in after.reasons[0]
    assert after.serving.certificate.chains_to(plan.ca.certificate)


def test_serving_certificate_never_outlives_its_ca() -> None:
    plan = _bootstrap()
    late = T0 + 390 * SECOND  # 3.5 minutes before the CA's renewal, 210 s before... still valid
    renewed = rotation.plan(dataclasses.replace(_apply(plan), serving=None), POLICY, now=late)
    assert renewed.serving.certificate.not_after <= renewed.ca.certificate.not_after


def test_ca_rotation_overlaps_then_switches_then_retires() -> None:
    first = _bootstrap()
    old_ca = first.ca.certificate
    # Keep the serving certificate fresh up to the CA's renewal point.
    state = _apply(first, served=True)
    now = T0 + 400 * SECOND  # 2/3 of 600 s
    state = dataclasses.replace(
        state,
        serving=_serving(first, now=now - 5 * SECOND),
    )
    rotated = rotation.plan(state, POLICY, now=now)
    assert rotated.ca_issued
    assert not rotated.serving_issued
    new_ca = rotated.ca.certificate
    assert [c.fingerprint for c in rotated.bundle] == [new_ca.fingerprint, old_ca.fingerprint]
    assert rotated.serving.certificate.chains_to(old_ca)

    # Before the overlap has passed, nothing moves.
    state = _apply(rotated, served=True)
    waiting = rotation.plan(state, POLICY, now=now + 9 * SECOND)
    assert not waiting.serving_issued
    assert len(waiting.bundle) == 2

    # Not yet published in the webhook configuration: still nothing moves.
    unpublished = dataclasses.replace(state, published=(old_ca,))
    assert not rotation.plan(unpublished, POLICY, now=now + 20 * SECOND).serving_issued

    switched = rotation.plan(state, POLICY, now=now + 10 * SECOND)
    assert switched.serving_issued
    assert "current CA" in switched.reasons[0]
    assert switched.serving.certificate.chains_to(new_ca)
    assert len(switched.bundle) == 2  # the old CA stays while replicas reload

    # The webhook still serves the old certificate: the old CA stays.
    stale = dataclasses.replace(_apply(switched), served=(rotated.serving.certificate,))
    assert len(rotation.plan(stale, POLICY, now=now + 30 * SECOND).bundle) == 2
    # An endpoint that cannot be reached keeps it too.
    unknown = dataclasses.replace(_apply(switched), served=(None,))
    assert len(rotation.plan(unknown, POLICY, now=now + 30 * SECOND).bundle) == 2
    # Served the new one, but not for the overlap yet: kept.
    fresh = _apply(switched, served=True)
    assert len(rotation.plan(fresh, POLICY, now=now + 15 * SECOND).bundle) == 2
    # Served the new one for the overlap: retired.
    done = rotation.plan(fresh, POLICY, now=now + 21 * SECOND)
    assert [c.fingerprint for c in done.bundle] == [new_ca.fingerprint]
    assert [c.fingerprint for c in done.retired] == [old_ca.fingerprint]


def test_without_probes_the_overlap_alone_retires_the_old_ca() -> None:
    first = _bootstrap()
    now = T0 + 400 * SECOND
    state = dataclasses.replace(
        _apply(first),
        serving=_serving(first, now=now - 5 * SECOND),
    )
    rotated = rotation.plan(state, POLICY, now=now)
    assert rotated.ca_issued
    assert not rotated.serving_issued
    switched = rotation.plan(_apply(rotated), POLICY, now=now + 10 * SECOND)
    assert len(rotation.plan(_apply(switched), POLICY, now=now + 15 * SECOND).bundle) == 2
    assert len(rotation.plan(_apply(switched), POLICY, now=now + 21 * SECOND).bundle) == 1


def test_expired_ca_leaves_the_bundle_and_an_expired_serving_cert_is_replaced() -> None:
    first = _bootstrap()
    later = T0 + 700 * SECOND
    plan = rotation.plan(_apply(first), POLICY, now=later)
    assert plan.ca_issued
    assert plan.serving_issued
    assert [c.fingerprint for c in plan.bundle] == [plan.ca.certificate.fingerprint]


def test_lost_ca_secret_starts_an_overlapping_rotation() -> None:
    first = _bootstrap()
    state = dataclasses.replace(_apply(first), ca=None)
    plan = rotation.plan(state, POLICY, now=T0 + 5 * SECOND)
    assert plan.ca_issued
    assert not plan.serving_issued
    assert len(plan.bundle) == 2  # the CA still signing the served certificate stays


def test_names_change_reissues_at_once() -> None:
    first = _bootstrap()
    renamed = dataclasses.replace(POLICY, dns_names=("other", "other.ns", "other.ns.svc"))
    plan = rotation.plan(_apply(first), renamed, now=T0 + SECOND)
    assert plan.serving_issued
    assert "names" in plan.reasons[0]


def test_untrusted_serving_certificate_is_replaced() -> None:
    first = _bootstrap()
    stranger = _bootstrap()
    state = dataclasses.replace(_apply(first), serving=stranger.serving)
    plan = rotation.plan(state, POLICY, now=T0 + SECOND)
    assert plan.serving_issued
    assert plan.serving.certificate.chains_to(first.ca.certificate)


def test_next_check_is_the_next_due_moment() -> None:
    plan = _bootstrap()
    assert plan.next_check(POLICY) == plan.serving.certificate.renew_at(rotation.RENEW_FRACTION)


def test_keypair_load_refuses_a_foreign_key() -> None:
    a, b = _bootstrap(), _bootstrap()
    with pytest.raises(pki.PkiError, match="does not belong"):
        pki.KeyPair.load(a.serving.certificate.pem, b.serving.key_pem)
    loaded = pki.KeyPair.load(a.serving.certificate.pem, a.serving.key_pem)
    assert loaded.certificate == a.serving.certificate


def test_bundle_round_trip() -> None:
    a, b = _bootstrap(), _bootstrap()
    pem = pki.join_bundle([a.ca.certificate, b.ca.certificate]) + b"garbage"
    assert [c.fingerprint for c in pki.split_bundle(pem)] == [
        a.ca.certificate.fingerprint,
        b.ca.certificate.fingerprint,
    ]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Cluster:
    """The operator's settings and how late the rest of the cluster sees its writes."""

    policy: rotation.Policy
    check: int  # seconds between the operator's passes
    load_delays: tuple[int, ...]  # per replica: Secret written -> it serves it (kubelet, reload)
    trust_delay: int  # caBundle written -> the apiserver verifies with it


def _latest(history: list[tuple[int, rotation.Plan]], at: int) -> rotation.Plan:
    return [plan for when, plan in history if when <= at][-1] if at >= 0 else history[0][1]


def _failed_handshakes(cluster: _Cluster, *, seconds: int) -> list[str]:
    """Every second at which the apiserver could not verify what a replica served.

    The operator probes every replica (as it does through the Service's
    EndpointSlices), so it sees a replica that is late to reload.
    """
    history: list[tuple[int, rotation.Plan]] = []
    state = rotation.Current(ca=None, serving=None)
    failures: list[str] = []
    for t in range(seconds):
        now = T0 + t * SECOND
        if t % cluster.check == 0:
            served = tuple(
                _latest(history, t - delay).serving.certificate if history else None
                for delay in cluster.load_delays
            )
            plan = rotation.plan(dataclasses.replace(state, served=served), cluster.policy, now=now)
            history.append((t, plan))
            state = _apply(plan)
        if t < max(cluster.load_delays):
            continue  # the first Pods start once the first Secret exists
        trusted = _latest(history, t - cluster.trust_delay).bundle
        for replica, delay in enumerate(cluster.load_delays):
            cert = _latest(history, t - delay).serving.certificate
            if cert.expired(now) or now < cert.not_before:
                failures.append(f"{t}s, replica {replica}: expired or not yet valid")
            elif not any(cert.chains_to(ca) and not ca.expired(now) for ca in trusted):
                failures.append(f"{t}s, replica {replica}: chains to no trusted CA")
    return failures


@pytest.mark.parametrize(
    "cluster",
    [
        pytest.param(
            _Cluster(
                policy=rotation.Policy(
                    dns_names=POLICY.dns_names,
                    ca_lifetime=datetime.timedelta(minutes=3),
                    cert_lifetime=datetime.timedelta(seconds=60),
                    overlap=datetime.timedelta(seconds=10),
                    skew=datetime.timedelta(seconds=6),
                ),
                check=2,
                load_delays=(3, 17),
                trust_delay=2,
            ),
            id="the node suite's 3-minute CAs",
        ),
        pytest.param(
            _Cluster(policy=POLICY, check=1, load_delays=(1, 12, 25), trust_delay=1),
            id="10-minute CAs",
        ),
    ],
)
def test_rotations_never_serve_a_certificate_the_apiserver_cannot_verify(
    cluster: _Cluster,
) -> None:
    """A replica may reload a third of a certificate's life late, through CA rotations too."""
    seconds = int(3.5 * cluster.policy.ca_lifetime.total_seconds())
    assert _failed_handshakes(cluster, seconds=seconds) == []
