"""The operator's settings, resolved from one place. Pure, no I/O.

``add_arguments`` declares the ``bulkhead operator`` flags (every default
``None``, so ``resolve`` knows what was given).

Every setting has one name and three sources, in order of precedence: a
``bulkhead operator`` flag, then the ``BULKHEAD_<NAME>`` environment
variable, then the default. ``resolve`` checks every value and returns one
frozen ``Settings``; ``SettingsError`` (``webhook.settingsources``, which also
owns the precedence and the parsers shared with the server) names the flag
and variable at fault. Durations are written ``90s``, ``10m``, ``12h`` or
``365d`` (a bare number is seconds).

================================  ====================================  ==========================
flag                              environment                           default
================================  ====================================  ==========================
--kubeconfig                      BULKHEAD_KUBECONFIG                   in-cluster, else ~/.kube
--namespace                       BULKHEAD_NAMESPACE                    bulkhead-system
--service-name                    BULKHEAD_SERVICE_NAME                 bulkhead
--tls-secret                      BULKHEAD_TLS_SECRET                   bulkhead-webhook-tls
--ca-secret                       BULKHEAD_CA_SECRET                    bulkhead-webhook-ca
--webhook-configuration           BULKHEAD_WEBHOOK_CONFIGURATION        bulkhead
--certificates                    BULKHEAD_CERTIFICATES                 operator
--extra-san (repeatable)          BULKHEAD_EXTRA_SANS (comma list)      none
--ca-lifetime                     BULKHEAD_CA_LIFETIME                  365d
--cert-lifetime                   BULKHEAD_CERT_LIFETIME                30d
--rotation-overlap                BULKHEAD_ROTATION_OVERLAP             5m
--clock-skew                      BULKHEAD_CLOCK_SKEW                   5m
--check-interval                  BULKHEAD_CHECK_INTERVAL               60s
--probe-endpoint (repeatable)     BULKHEAD_PROBE_ENDPOINTS (comma)      <service>.<ns>.svc:443
--metrics-address                 BULKHEAD_METRICS_ADDRESS              0.0.0.0
--metrics-port                    BULKHEAD_METRICS_PORT                 9090 (0: off)
--health-port                     BULKHEAD_HEALTH_PORT                  8081 (0: off)
--pss-latest                      BULKHEAD_PSS_LATEST                   v1.37
--log-level                       BULKHEAD_LOG_LEVEL                    info
================================  ====================================  ==========================

``--certificates external`` leaves the TLS Secrets and the caBundle to
another issuer (cert-manager and its cainjector): the operator then runs no
TLS loop and only keeps policy status; the certificate flags are unused.
``--probe-endpoint none`` turns probing off: an old CA then leaves the
bundle once the new serving certificate has been out for the overlap.
The skew is capped at a tenth of the serving certificate's lifetime, and
the overlap must be under a third of it (so a due renewal can wait for it).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Final

from webhook import profiles, settingsources
from webhook.policy import names

_DURATION: Final = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$")
_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: Who issues the webhook's certificate and caBundle: this operator, or someone else.
CERTIFICATE_SOURCES: Final = ("operator", "external")


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
    probe_endpoints: tuple[str, ...] | None = None
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


def _list(
    name: str, flags: Mapping[str, object], environ: Mapping[str, str], *, env_name: str
) -> tuple[str, ...] | None:
    """The flag's items, else the variable's comma list; ``None`` when neither is given."""
    flagged = flags.get(name)
    if flagged:
        if not isinstance(flagged, list | tuple):
            raise settingsources.SettingsError(f"{settingsources.flag_name(name)}: expected a list")
        return tuple(str(item).strip() for item in flagged if str(item).strip())
    raw = environ.get(env_name)
    if raw is None or raw == "":
        return None
    return tuple(item.strip() for item in raw.split(",") if item.strip())


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


def _address(text: str) -> str:
    ipaddress.ip_address(text)
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
                raise settingsources.SettingsError(
                    f"--extra-san / BULKHEAD_EXTRA_SANS: {err}"
                ) from err
    return tuple(names), tuple(addresses)


def resolve(flags: Mapping[str, object], environ: Mapping[str, str]) -> Settings:
    """Settings from flags (``None`` = not given), then ``BULKHEAD_*`` variables, then defaults."""
    defaults = Settings()
    namespace = settingsources.pick("namespace", flags, environ, _dns_label, defaults.namespace)
    service = settingsources.pick("service_name", flags, environ, _dns_label, defaults.service_name)
    names, addresses = _sans(
        _list("extra_san", flags, environ, env_name="BULKHEAD_EXTRA_SANS") or ()
    )
    probes = _list("probe_endpoint", flags, environ, env_name="BULKHEAD_PROBE_ENDPOINTS")
    if probes is None:
        probes = (f"{service}.{namespace}.svc:443",)
    elif probes in (("none",), ("",)):
        probes = ()
    for probe in probes:
        try:
            _endpoint(probe)
        except ValueError as err:
            raise settingsources.SettingsError(
                f"--probe-endpoint / BULKHEAD_PROBE_ENDPOINTS: {err}"
            ) from err
    settings = Settings(
        kubeconfig=settingsources.pick("kubeconfig", flags, environ, str, "") or None,
        namespace=namespace,
        service_name=service,
        tls_secret=settingsources.pick("tls_secret", flags, environ, _name, defaults.tls_secret),
        ca_secret=settingsources.pick("ca_secret", flags, environ, _name, defaults.ca_secret),
        webhook_configuration=settingsources.pick(
            "webhook_configuration", flags, environ, _name, defaults.webhook_configuration
        ),
        certificates=settingsources.pick(
            "certificates", flags, environ, _certificates, defaults.certificates
        ),
        extra_dns_names=names,
        extra_ip_addresses=addresses,
        ca_lifetime=settingsources.pick(
            "ca_lifetime", flags, environ, duration, defaults.ca_lifetime
        ),
        cert_lifetime=settingsources.pick(
            "cert_lifetime", flags, environ, duration, defaults.cert_lifetime
        ),
        rotation_overlap=settingsources.pick(
            "rotation_overlap", flags, environ, duration, defaults.rotation_overlap
        ),
        clock_skew=settingsources.pick("clock_skew", flags, environ, _skew, defaults.clock_skew),
        check_interval=settingsources.pick(
            "check_interval", flags, environ, _seconds, defaults.check_interval
        ),
        probe_endpoints=probes or None,
        metrics_address=settingsources.pick(
            "metrics_address", flags, environ, _address, defaults.metrics_address
        ),
        metrics_port=settingsources.pick(
            "metrics_port", flags, environ, settingsources.port, defaults.metrics_port
        ),
        health_port=settingsources.pick(
            "health_port", flags, environ, settingsources.port, defaults.health_port
        ),
        pss_latest_minor=settingsources.pick(
            "pss_latest", flags, environ, settingsources.latest_minor, defaults.pss_latest_minor
        ),
        log_level=settingsources.pick(
            "log_level", flags, environ, settingsources.log_level, defaults.log_level
        ),
    )
    if settings.tls_secret == settings.ca_secret:
        raise settingsources.SettingsError(
            "--tls-secret and --ca-secret must name different Secrets"
        )
    if settings.cert_lifetime > settings.ca_lifetime:
        raise settingsources.SettingsError("--cert-lifetime must not be longer than --ca-lifetime")
    if settings.rotation_overlap * 3 >= settings.cert_lifetime:
        raise settingsources.SettingsError(
            "--rotation-overlap must be under a third of --cert-lifetime "
            "(a due renewal waits for it)"
        )
    return settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``operator`` flags; every default is None so ``settings.resolve`` sees what was given."""
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig (default: in-cluster)")
    parser.add_argument("--namespace", help="namespace of the Secrets and Service")
    parser.add_argument("--service-name", help="the webhook Service (certificate names)")
    parser.add_argument("--tls-secret", metavar="NAME", help="serving Secret (kubernetes.io/tls)")
    parser.add_argument("--ca-secret", metavar="NAME", help="CA Secret (only the operator reads)")
    parser.add_argument(
        "--webhook-configuration",
        metavar="NAME",
        help="ValidatingWebhookConfiguration to inject caBundle into",
    )
    parser.add_argument(
        "--certificates",
        choices=CERTIFICATE_SOURCES,
        help="who issues the serving certificate and caBundle (operator; external: cert-manager)",
    )
    parser.add_argument(
        "--extra-san",
        action="append",
        metavar="NAME|IP",
        help="another DNS name or IP for the serving certificate (repeatable)",
    )
    parser.add_argument("--ca-lifetime", metavar="DURATION", help="CA lifetime (365d)")
    parser.add_argument("--cert-lifetime", metavar="DURATION", help="serving cert lifetime (30d)")
    parser.add_argument(
        "--rotation-overlap", metavar="DURATION", help="a new CA is trusted this long first (5m)"
    )
    parser.add_argument("--clock-skew", metavar="DURATION", help="backdate notBefore (5m)")
    parser.add_argument("--check-interval", metavar="DURATION", help="TLS check period (60s)")
    parser.add_argument(
        "--probe-endpoint",
        action="append",
        metavar="HOST:PORT",
        help="webhook endpoint whose served certificate is checked (repeatable; 'none': off)",
    )
    parser.add_argument("--metrics-address", help="metrics listen address (0.0.0.0)")
    parser.add_argument("--metrics-port", help="metrics port (9090; 0: off)")
    parser.add_argument("--health-port", help="kopf liveness port (8081; 0: off)")
    parser.add_argument("--pss-latest", metavar="v1.N", help="what 'latest' means")
    parser.add_argument("--log-level", help="debug, info, warning or error (info)")
