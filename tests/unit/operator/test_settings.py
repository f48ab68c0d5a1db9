"""Operator settings: flags over BULKHEAD_* over defaults, durations, contradictions refused."""

from __future__ import annotations

import datetime

import pytest

from webhook import settingtable
from webhook.operator import settings


def test_defaults() -> None:
    config = settings.resolve({}, {})
    assert config.namespace == "bulkhead-system"
    assert config.dns_names == (
        "bulkhead",
        "bulkhead.bulkhead-system",
        "bulkhead.bulkhead-system.svc",
    )
    assert config.probe_service
    assert config.probe_endpoints == ()
    assert config.cert_lifetime == datetime.timedelta(days=30)
    assert config.webhook_configuration == "bulkhead"


def test_flags_win_over_environment() -> None:
    environ = {"BULKHEAD_NAMESPACE": "from-env", "BULKHEAD_CERT_LIFETIME": "2h"}
    config = settings.resolve({"namespace": "from-flag"}, environ)
    assert config.namespace == "from-flag"
    assert config.cert_lifetime == datetime.timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("12h", 43200), ("365d", 31536000), ("250ms", 0.25), ("7", 7)],
)
def test_durations(text: str, seconds: float) -> None:
    assert settings.duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1s", "1w", "soon"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|above zero"):
        settings.duration(text)


def test_extra_sans_split_names_and_addresses() -> None:
    config = settings.resolve({"extra_san": ["127.0.0.1", "Webhook.Example.com", "::1"]}, {})
    assert config.extra_ip_addresses == ("127.0.0.1", "::1")
    assert "webhook.example.com" in config.dns_names


def test_probes_can_be_turned_off_and_listed_in_the_environment() -> None:
    off = settings.resolve({"probe_endpoint": ["none"]}, {})
    assert (off.probe_service, off.probe_endpoints) == (False, ())
    both = settings.resolve({"probe_endpoint": ["service", "10.0.0.1:8443"]}, {})
    assert (both.probe_service, both.probe_endpoints) == (True, ("10.0.0.1:8443",))
    config = settings.resolve({}, {"BULKHEAD_PROBE_ENDPOINTS": "a:1, b:2"})
    assert config.probe_endpoints == ("a:1", "b:2")


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        ({"namespace": "Bad_NS"}, "--namespace / BULKHEAD_NAMESPACE"),
        ({"metrics_port": "70000"}, "--metrics-port"),
        ({"cert_lifetime": "2d", "ca_lifetime": "1d"}, "longer than --ca-lifetime"),
        ({"cert_lifetime": "30s", "rotation_overlap": "10s"}, "third of --cert-lifetime"),
        ({"tls_secret": "same", "ca_secret": "same"}, "different Secrets"),
        ({"probe_endpoint": ["no-port"]}, "host:port"),
        ({"extra_san": ["not a name"]}, "--extra-san"),
        ({"pss_latest": "v2.0"}, "--pss-latest"),
    ],
)
def test_errors_name_the_setting(flags: dict[str, object], match: str) -> None:
    with pytest.raises(settingtable.SettingsError, match=match):
        settings.resolve(flags, {})


def test_skew_is_capped_by_the_certificate_lifetime() -> None:
    config = settings.resolve({"cert_lifetime": "60s", "rotation_overlap": "5s"}, {})
    assert config.effective_skew == datetime.timedelta(seconds=6)


def test_certificates_are_the_operators_unless_external() -> None:
    assert settings.resolve({}, {}).certificates == "operator"
    assert settings.resolve({}, {"BULKHEAD_CERTIFICATES": "external"}).certificates == "external"
    with pytest.raises(settingtable.SettingsError, match="--certificates / BULKHEAD_CERTIFICATES"):
        settings.resolve({"certificates": "cert-manager"}, {})
