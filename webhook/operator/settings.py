"""The operator's settings, declared once and resolved from one place. Pure, no I/O.

Every setting is declared once, in ``TABLE`` (``webhook.settingtable``):
its flag, its ``BULKHEAD_<NAME>`` environment variable, its default and its
help, from which ``bulkhead operator``'s flags and the table in
``docs/operator.md`` are derived. A flag wins over the variable, which wins
over the default. ``resolve`` checks every value and returns one frozen
``Settings``; ``SettingsError`` names the flag and variable at fault.
Durations are written ``90s``, ``10m``, ``12h`` or ``365d`` (a bare number
is seconds).

``--check-interval`` is also how often exclusion expiry is re-checked
(policy status lists the ``spec.exclude`` entries expiring within
``--exclusion-window`` and those already expired) and how often the Secrets
named by ``imageSignatures.keySecrets`` are read again (rotation).
``--certificates external`` leaves the TLS Secrets and the caBundle to
another issuer (cert-manager and its cainjector): the operator then runs no
TLS loop and only keeps policy status; the certificate flags are unused.
``--probe-endpoint service`` (the default) probes every endpoint of the
webhook Service, one handshake each, so each replica's certificate is seen;
a ``HOST:PORT`` is probed a few times (a webhook outside the cluster).
``--probe-endpoint none`` turns probing off: an old CA then leaves the
bundle once the new serving certificate has been out for the overlap.
The skew is capped at a tenth of the serving certificate's lifetime, and
the overlap must be under a third of it (so a due renewal can wait for it).
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from webhook import profiles, settingtable
from webhook.policy import names

T = TypeVar("T")
_DURATION: Final = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$")
_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: Who issues the webhook's certificate and caBundle: this operator, or someone else.
CERTIFICATE_SOURCES: Final = ("operator", "external")
#: ``--probe-endpoint`` value: every endpoint of the webhook Service.
PROBE_SERVICE: Final = "service"


_S = settingtable.Setting
_DURATION_METAVAR: Final = "DURATION"

TABLE: Final = settingtable.Table(
    (
        _S(
            name="kubeconfig",
            metavar="FILE",
            help="the cluster's credentials",
            default_text="in-cluster ServiceAccount, else `~/.kube/config`",
        ),
        _S(
            name="namespace",
            default="bulkhead-system",
            help="namespace of the Secrets and Service (and the Events of cluster policies)",
        ),
        _S(name="service_name", default="bulkhead", help="the webhook Service (certificate names)"),
        _S(
            name="tls_secret",
            metavar="NAME",
            default="bulkhead-webhook-tls",
            help="serving Secret (kubernetes.io/tls)",
        ),
        _S(
            name="ca_secret",
            metavar="NAME",
            default="bulkhead-webhook-ca",
            help="CA Secret (only the operator reads it)",
        ),
        _S(
            name="webhook_configuration",
            metavar="NAME",
            default="bulkhead",
            help="ValidatingWebhookConfiguration to inject caBundle into",
        ),
        _S(
            name="certificates",
            choices=CERTIFICATE_SOURCES,
            default="operator",
            help="who issues the serving certificate and caBundle",
            note="`external`: another issuer (cert-manager and its cainjector) owns the TLS "
            "Secret and `caBundle`, the operator runs no TLS loop",
        ),
        _S(
            name="extra_san",
            variable="BULKHEAD_EXTRA_SANS",
            repeatable=True,
            metavar="NAME|IP",
            help="another DNS name or IP for the serving certificate",
        ),
        _S(name="ca_lifetime", metavar=_DURATION_METAVAR, default="365d", help="CA lifetime"),
        _S(
            name="cert_lifetime",
            metavar=_DURATION_METAVAR,
            default="30d",
            help="serving certificate lifetime",
        ),
        _S(
            name="rotation_overlap",
            metavar=_DURATION_METAVAR,
            default="5m",
            help="a new CA is trusted this long first",
            note="must be under a third of the cert lifetime",
        ),
        _S(
            name="clock_skew",
            metavar=_DURATION_METAVAR,
            default="5m",
            help="backdate notBefore",
            note="capped at a tenth of the cert lifetime",
        ),
        _S(
            name="check_interval",
            metavar=_DURATION_METAVAR,
            default="60s",
            help="TLS check period, and how often key Secrets are re-read",
            note="the loop also wakes when something falls due",
        ),
        _S(
            name="exclusion_window",
            metavar=_DURATION_METAVAR,
            default="14d",
            help="list exclusions expiring within this long in policy status",
        ),
        _S(
            name="probe_endpoint",
            variable="BULKHEAD_PROBE_ENDPOINTS",
            repeatable=True,
            metavar="HOST:PORT",
            default_text="`service`",
            help="webhook endpoint whose served certificate is checked: `service` (every "
            "endpoint of the webhook Service, read from its EndpointSlices), a HOST:PORT, "
            "or `none` (off)",
        ),
        _S(name="metrics_address", default="0.0.0.0", help="metrics listen address"),  # noqa: S104
        _S(name="metrics_port", default="9090", help="metrics port", note="`0`: off"),
        _S(
            name="health_port",
            default="8081",
            help="kopf liveness port (`/healthz`)",
            note="`0`: off",
        ),
        settingtable.pss_latest_row(),
        settingtable.log_level_row(),
    )
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything ``bulkhead operator`` needs, already checked."""

    kubeconfig: str | None = None
    namespace: str = "bulkhead-system"
    service_name: str = "bulkhead"
    tls_secret: str = "bulkhead-webhook-tls"  # noqa: S105 - a Secret name
    ca_secret: str = "bulkhead-webhook-ca"  # noqa: S105 - a Secret name
    webhook_configuration: str = "bulkhead"
    certificates: str = "operator"
    extra_dns_names: tuple[str, ...] = ()
    extra_ip_addresses: tuple[str, ...] = ()
    ca_lifetime: datetime.timedelta = datetime.timedelta(days=365)
    cert_lifetime: datetime.timedelta = datetime.timedelta(days=30)
    rotation_overlap: datetime.timedelta = datetime.timedelta(minutes=5)
    clock_skew: datetime.timedelta = datetime.timedelta(minutes=5)
    check_interval: float = 60.0
    exclusion_window: datetime.timedelta = datetime.timedelta(days=14)
    probe_service: bool = True
    probe_endpoints: tuple[str, ...] = ()
    metrics_address: str = "0.0.0.0"  # noqa: S104 - Prometheus scrapes the pod's address
    metrics_port: int = 9090
    health_port: int = 8081
    pss_latest_minor: int = profiles.DEFAULT_LATEST_MINOR
    log_level: str = "info"

    @property
    def dns_names(self) -> tuple[str, ...]:
        """``svc``, ``svc.ns``, ``svc.ns.svc`` and any extra names."""
        service, namespace = self.service_name, self.namespace
        base = (service, f"{service}.{namespace}", f"{service}.{namespace}.svc")
        return tuple(dict.fromkeys((*base, *self.extra_dns_names)))

    @property
    def effective_skew(self) -> datetime.timedelta:
        return min(self.clock_skew, self.cert_lifetime / 10)


def duration(text: str) -> datetime.timedelta:
    """``90s``, ``10m``, ``12h``, ``365d``, ``250ms`` or plain seconds, above zero."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"must be a duration such as 90s, 10m, 12h or 365d, not {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"must be above zero, not {text!r}")
    return datetime.timedelta(seconds=seconds)


def _skew(text: str) -> datetime.timedelta:
    """A duration that may be zero (no backdating)."""
    if text.strip() in ("0", "0s"):
        return datetime.timedelta(0)
    return duration(text)


def _seconds(text: str) -> float:
    return duration(text).total_seconds()


def _dns_label(text: str) -> str:
    if not names.is_dns_label(text):
        raise ValueError(f"must be a DNS label (lower-case letters, digits, '-'), not {text!r}")
    return text


def _name(text: str) -> str:
    if not names.is_dns_subdomain(text.removeprefix("*.")):
        raise ValueError(f"must be a DNS subdomain name, not {text!r}")
    return text


def _certificates(text: str) -> str:
    if text not in CERTIFICATE_SOURCES:
        raise ValueError(f"must be one of {', '.join(CERTIFICATE_SOURCES)}, not {text!r}")
    return text


def _endpoint(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"must be host:port, not {text!r}")
    return text


def _sans(values: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names: list[str] = []
    addresses: list[str] = []
    for value in values:
        try:
            addresses.append(str(ipaddress.ip_address(value)))
        except ValueError:
            try:
                names.append(_name(value.lower()))
            except ValueError as err:
                raise settingtable.SettingsError(f"{TABLE['extra_san'].source()}: {err}") from err
    return tuple(names), tuple(addresses)


def resolve(flags: Mapping[str, object], environ: Mapping[str, str]) -> Settings:
    """Settings from flags (``None`` = not given), then ``BULKHEAD_*`` variables, then defaults."""

    def pick(name: str, convert: Callable[[str], T]) -> T:
        return TABLE.pick(name, flags, environ, convert)

    namespace = pick("namespace", _dns_label)
    service = pick("service_name", _dns_label)
    names, addresses = _sans(TABLE.items("extra_san", flags, environ) or ())
    probes = TABLE.items("probe_endpoint", flags, environ)
    if probes is None:
        probes = (PROBE_SERVICE,)
    elif probes in (("none",), ("",)):
        probes = ()
    probe_service = PROBE_SERVICE in probes
    probes = tuple(probe for probe in probes if probe != PROBE_SERVICE)
    for probe in probes:
        try:
            _endpoint(probe)
        except ValueError as err:
            raise settingtable.SettingsError(f"{TABLE['probe_endpoint'].source()}: {err}") from err
    settings = Settings(
        kubeconfig=pick("kubeconfig", str) or None,
        namespace=namespace,
        service_name=service,
        tls_secret=pick("tls_secret", _name),
        ca_secret=pick("ca_secret", _name),
        webhook_configuration=pick("webhook_configuration", _name),
        certificates=pick("certificates", _certificates),
        extra_dns_names=names,
        extra_ip_addresses=addresses,
        ca_lifetime=pick("ca_lifetime", duration),
        cert_lifetime=pick("cert_lifetime", duration),
        rotation_overlap=pick("rotation_overlap", duration),
        clock_skew=pick("clock_skew", _skew),
        check_interval=pick("check_interval", _seconds),
        exclusion_window=pick("exclusion_window", duration),
        probe_service=probe_service,
        probe_endpoints=probes,
        metrics_address=pick("metrics_address", settingtable.ip_address),
        metrics_port=pick("metrics_port", settingtable.port),
        health_port=pick("health_port", settingtable.port),
        pss_latest_minor=pick("pss_latest", settingtable.latest_minor),
        log_level=pick("log_level", settingtable.log_level),
    )
    if settings.tls_secret == settings.ca_secret:
        raise settingtable.SettingsError("--tls-secret and --ca-secret must name different Secrets")
    if settings.cert_lifetime > settings.ca_lifetime:
        raise settingtable.SettingsError("--cert-lifetime must not be longer than --ca-lifetime")
    if settings.rotation_overlap * 3 >= settings.cert_lifetime:
        raise settingtable.SettingsError(
            "--rotation-overlap must be under a third of --cert-lifetime "
            "(a due renewal waits for it)"
        )
    return settings
