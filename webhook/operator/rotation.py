"""When to issue, renew and retire the webhook's certificates. Pure, no I/O.

``plan(current, policy, now=...)`` looks at what the two Secrets and the
webhook configuration hold and returns what they should hold. The rules:

* **CA.** No usable CA (missing, unreadable, key mismatch, expired): issue
  one. At ``RENEW_FRACTION`` (2/3) of its life: issue the next CA. A new CA
  goes into the trust bundle (``ca.crt``, and the webhook configuration's
  ``caBundle``) at once, next to the CAs already there.
* **Serving certificate.** Issued at once when missing, unreadable, not
  for the right names, expired, or signed by no CA in the bundle (there is
  nothing left to break). Renewed at 2/3 of its life, and moved off an
  older CA, only once the current CA has been trusted for ``overlap`` and
  the webhook configuration's ``caBundle`` already holds it, so the
  apiserver never meets a certificate it cannot verify; such a renewal can
  wait, since the overlap is under a third of the certificate's life.
* **Retiring a CA.** An older CA leaves the bundle when it has expired, or
  when nothing can still present a certificate it signed: the Secret's
  serving certificate does not chain to it, every probed webhook endpoint
  served a certificate that does not chain to it (an endpoint that could not
  be reached keeps it), and the current serving certificate has been out for
  ``overlap`` (time for every replica to load it).

The plan is idempotent: applied to its own result it changes nothing, so
the operator can be killed at any step and converge when it runs again.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Final

from webhook.operator import pki

#: Renew a certificate once this fraction of its validity window has passed.
RENEW_FRACTION: Final = 2 / 3


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Lifetimes, names and the overlap a rotation waits for."""

    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...] = ()
    ca_lifetime: datetime.timedelta
    cert_lifetime: datetime.timedelta
    overlap: datetime.timedelta
    skew: datetime.timedelta


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Current:
    """What the cluster holds now; ``None`` where something is missing.

    ``served`` lists, per probed endpoint, the certificate it presented
    (``None``: unreachable); ``None`` as a whole when probing is off.
    ``published`` is the webhook configuration's ``caBundle`` (``None``:
    there is no configuration to publish to).
    """

    ca: pki.KeyPair | None
    serving: pki.KeyPair | None
    bundle: tuple[pki.Certificate, ...] = ()
    served: tuple[pki.Certificate | None, ...] | None = None
    published: tuple[pki.Certificate, ...] | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What the Secrets should hold; ``reasons`` says what changed and why."""

    ca: pki.KeyPair
    serving: pki.KeyPair
    bundle: tuple[pki.Certificate, ...]
    ca_issued: bool
    serving_issued: bool
    retired: tuple[pki.Certificate, ...]
    reasons: tuple[str, ...]

    @property
    def bundle_pem(self) -> bytes:
        return pki.join_bundle(self.bundle)

    def next_check(self, policy: Policy) -> datetime.datetime:
        """The earliest moment the plan may change by itself (a renewal or retirement due)."""
        moments = [
            self.ca.certificate.renew_at(RENEW_FRACTION),
            self.serving.certificate.renew_at(RENEW_FRACTION),
        ]
        for ca in self.bundle:
            if ca.fingerprint != self.ca.certificate.fingerprint:
                moments.append(ca.not_after)
                moments.append(self.serving.certificate.not_before + policy.skew + policy.overlap)
        if not self.serving.certificate.chains_to(self.ca.certificate):
            moments.append(self.ca.certificate.not_before + policy.skew + policy.overlap)
        return min(moments)


def _usable_ca(ca: pki.KeyPair | None, now: datetime.datetime) -> str | None:
    """Why ``ca`` cannot sign, or ``None`` when it can."""
    if ca is None:
        return "no CA yet"
    if not ca.certificate.is_ca:
        return "the CA certificate is not a CA"
    if ca.certificate.expired(now):
        return "the CA has expired"
    return None


def _serving_problem(
    serving: pki.KeyPair | None,
    *,
    policy: Policy,
    trusted: Sequence[pki.Certificate],
    now: datetime.datetime,
) -> tuple[str | None, bool]:
    """Why ``serving`` must be replaced (or ``None``), and whether that is urgent.

    Urgent problems (missing, wrong names, expired, untrusted) are fixed at
    once; a renewal that is merely due waits until the current CA is trusted.
    """
    if serving is None:
        return "no serving certificate yet", True
    cert = serving.certificate
    if set(cert.dns_names) != set(policy.dns_names) or set(cert.ip_addresses) != set(
        policy.ip_addresses
    ):
        return "the serving certificate names changed", True
    if cert.expired(now):
        return "the serving certificate has expired", True
    if not any(cert.chains_to(ca) for ca in trusted):
        return "no trusted CA signed the serving certificate", True
    if now >= cert.renew_at(RENEW_FRACTION):
        return "the serving certificate reached 2/3 of its life", False
    return None, False


def _in(certificate: pki.Certificate, among: Sequence[pki.Certificate] | None) -> bool:
    return among is not None and any(c.fingerprint == certificate.fingerprint for c in among)


def plan(current: Current, policy: Policy, *, now: datetime.datetime) -> Plan:
    """What the CA Secret, the serving Secret and the bundle should hold at ``now``."""
    reasons: list[str] = []
    ca_issued = False
    ca = current.ca
    problem = _usable_ca(ca, now)
    if ca is None or problem is not None:
        ca = pki.new_ca(now=now, lifetime=policy.ca_lifetime, skew=policy.skew)
        ca_issued = True
        reasons.append(f"issued a CA: {problem}")
    elif now >= ca.certificate.renew_at(RENEW_FRACTION):
        ca = pki.new_ca(now=now, lifetime=policy.ca_lifetime, skew=policy.skew)
        ca_issued = True
        reasons.append("issued the next CA: the CA reached 2/3 of its life")

    # The trust bundle: the current CA first, then every older CA still valid.
    bundle: list[pki.Certificate] = [ca.certificate]
    for old in current.bundle:
        if old.is_ca and not old.expired(now) and not _in(old, bundle):
            bundle.append(old)
    previous = current.ca.certificate if current.ca is not None else None
    if previous is not None and not previous.expired(now) and not _in(previous, bundle):
        bundle.append(previous)

    serving = current.serving
    serving_issued = False
    problem, urgent = _serving_problem(serving, policy=policy, trusted=bundle, now=now)
    published = current.published is None or _in(ca.certificate, current.published)
    ca_trusted = published and now >= ca.certificate.not_before + policy.skew + policy.overlap
    if (
        serving is not None
        and problem is None
        and not serving.certificate.chains_to(ca.certificate)
    ):
        problem = "moving the serving certificate to the current CA"
    if problem is not None and not urgent and not ca_trusted:
        problem = None  # not yet: the apiserver may not trust the current CA
    if problem is not None:
        serving = pki.new_serving(
            ca=ca,
            dns_names=policy.dns_names,
            ip_addresses=policy.ip_addresses,
            now=now,
            lifetime=policy.cert_lifetime,
            skew=policy.skew,
        )
        serving_issued = True
        reasons.append(f"issued a serving certificate: {problem}")
    if serving is None:  # unreachable: a missing certificate is always a problem
        raise AssertionError("no serving certificate planned")

    kept: list[pki.Certificate] = [ca.certificate]
    retired: list[pki.Certificate] = []
    settled = now >= serving.certificate.not_before + policy.skew + policy.overlap
    for old in bundle[1:]:
        if _still_needed(old, serving=serving.certificate, served=current.served, settled=settled):
            kept.append(old)
        else:
            retired.append(old)
            reasons.append(f"retired the CA {old.subject}: no served certificate chains to it")
    return Plan(
        ca=ca,
        serving=serving,
        bundle=tuple(kept),
        ca_issued=ca_issued,
        serving_issued=serving_issued,
        retired=tuple(retired),
        reasons=tuple(reasons),
    )


def _still_needed(
    ca: pki.Certificate,
    *,
    serving: pki.Certificate,
    served: tuple[pki.Certificate | None, ...] | None,
    settled: bool,
) -> bool:
    if serving.chains_to(ca) or not settled:
        return True
    if served is None:
        return False
    return any(cert is None or cert.chains_to(ca) for cert in served)
