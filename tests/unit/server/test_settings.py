"""Settings: flags beat BULKHEAD_* variables beat defaults; every bad value names its source."""

from __future__ import annotations

from typing import Any

import pytest

from webhook import settingtable
from webhook.server import settings

REQUIRED = {"tls_cert_file": "/c", "tls_private_key_file": "/k", "profile": ["restricted"]}


def _flags(**extra: Any) -> dict[str, Any]:
    return {**REQUIRED, **extra}


def test_defaults() -> None:
    resolved = settings.resolve(_flags(), {})
    assert resolved.address == "0.0.0.0"  # noqa: S104 - the documented default
    assert resolved.port == 8443
    assert resolved.reload_interval == 1.0
    assert resolved.client_ca_file is None
    assert resolved.enable_noop_endpoint is False
    assert resolved.profiles == ("restricted",)
    assert resolved.pss_latest_minor == settings.DEFAULT_LATEST_MINOR


def test_environment_fills_what_flags_leave_out() -> None:
    environ = {
        "BULKHEAD_PORT": "9443",
        "BULKHEAD_POLICY_FILES": "/a.yaml, /dir",
        "BULKHEAD_CLIENT_CA_FILE": "/ca",
        "BULKHEAD_ENABLE_NOOP_ENDPOINT": "true",
        "BULKHEAD_PSS_LATEST": "v1.30",
    }
    resolved = settings.resolve(_flags(port=None), environ)
    assert resolved.port == 9443
    assert resolved.policy_files == ("/a.yaml", "/dir")
    assert resolved.client_ca_file == "/ca"
    assert resolved.enable_noop_endpoint is True
    assert resolved.pss_latest_minor == 30


def test_registry_settings_default_to_half_the_decision_time_and_the_system_store() -> None:
    resolved = settings.resolve(_flags(decision_timeout="3"), {})
    assert resolved.registry_timeout == 1.5
    assert resolved.registry_ca_file is None
    assert resolved.registry_credentials_file is None
    given = settings.resolve(
        _flags(registry_timeout="2.5", registry_credentials_file="/run/pull/.dockerconfigjson"),
        {"BULKHEAD_REGISTRY_CA_FILE": "/etc/registry-ca.pem"},
    )
    assert given.registry_timeout == 2.5
    assert given.registry_ca_file == "/etc/registry-ca.pem"
    assert given.registry_credentials_file == "/run/pull/.dockerconfigjson"


def test_flags_win_over_the_environment() -> None:
    environ = {"BULKHEAD_PORT": "9443", "BULKHEAD_PROFILES": "baseline"}
    resolved = settings.resolve(_flags(port="10443"), environ)
    assert resolved.port == 10443
    assert resolved.profiles == ("restricted",)


def test_required_files_come_from_the_environment_too() -> None:
    environ = {"BULKHEAD_TLS_CERT_FILE": "/e/c", "BULKHEAD_TLS_PRIVATE_KEY_FILE": "/e/k"}
    resolved = settings.resolve({"profile": ["baseline"]}, environ)
    assert (resolved.tls_cert_file, resolved.tls_private_key_file) == ("/e/c", "/e/k")


@pytest.mark.parametrize(
    ("flags", "environ", "named"),
    [
        ({"tls_cert_file": None}, {}, "--tls-cert-file (or BULKHEAD_TLS_CERT_FILE) is required"),
        ({"port": "70000"}, {}, "--port / BULKHEAD_PORT"),
        ({"port": "http"}, {}, "--port / BULKHEAD_PORT"),
        ({}, {"BULKHEAD_RELOAD_INTERVAL": "0"}, "--reload-interval / BULKHEAD_RELOAD_INTERVAL"),
        ({"reload_interval": "nan"}, {}, "--reload-interval"),
        ({"address": "example.com"}, {}, "must be an IP address"),
        ({"log_level": "loud"}, {}, "--log-level"),
        ({}, {"BULKHEAD_ENABLE_NOOP_ENDPOINT": "maybe"}, "BULKHEAD_ENABLE_NOOP_ENDPOINT"),
        ({"pss_latest": "v2.0"}, {}, "--pss-latest"),
        ({"max_connections": "0"}, {}, "--max-connections"),
        ({"profile": None}, {}, "nothing to enforce"),
        ({"registry_timeout": "4"}, {}, "--registry-timeout (BULKHEAD_REGISTRY_TIMEOUT) 4s"),
    ],
    ids=[
        "missing certificate",
        "port out of range",
        "port not a number",
        "zero interval",
        "NaN interval",
        "host name as address",
        "unknown log level",
        "not a boolean",
        "bad version",
        "no connections",
        "nothing to enforce",
        "registry timeout not below the decision timeout",
    ],
)
def test_bad_settings_name_the_flag_and_variable(
    flags: dict[str, Any], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(
        settingtable.SettingsError, match=named.replace("(", r"\(").replace(")", r"\)")
    ):
        settings.resolve(_flags(**flags), environ)


def test_the_worker_gets_exactly_the_resolved_settings() -> None:
    resolved = settings.resolve(
        _flags(policy_file=["/p"], port="0"), {"BULKHEAD_LOG_LEVEL": "debug"}
    )
    assert settings.Settings.from_json(resolved.to_json()) == resolved
