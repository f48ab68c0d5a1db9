"""The webhook server's settings, resolved from one place. Pure, no I/O.

Every setting has one name and three sources, in order of precedence:
a command-line flag, then the ``BULKHEAD_<NAME>`` environment variable, then
the default. ``resolve`` takes the flags (``None`` when a flag was not given)
and the environment as plain mappings, checks every value and returns one
frozen ``Settings``; ``SettingsError`` names the flag and the variable at
fault. The serving process hands the resolved settings to its worker as JSON
(``to_json`` / ``from_json``) so both always agree.

===========================  ==================================  =========
flag                         environment                         default
===========================  ==================================  =========
--tls-cert-file              BULKHEAD_TLS_CERT_FILE              required
--tls-private-key-file       BULKHEAD_TLS_PRIVATE_KEY_FILE       required
--client-ca-file             BULKHEAD_CLIENT_CA_FILE             none
--policy-file (repeatable)   BULKHEAD_POLICY_FILES (comma list)  none
--profile (repeatable)       BULKHEAD_PROFILES (comma list)      none
--kubeconfig                 BULKHEAD_KUBECONFIG                 in-cluster account
--pss-latest                 BULKHEAD_PSS_LATEST                 v1.35
--address                    BULKHEAD_ADDRESS                    0.0.0.0
--port                       BULKHEAD_PORT                       8443
--reload-interval            BULKHEAD_RELOAD_INTERVAL            1.0 s
--shutdown-timeout           BULKHEAD_SHUTDOWN_TIMEOUT           25 s
--max-connections            BULKHEAD_MAX_CONNECTIONS            1024
--log-level                  BULKHEAD_LOG_LEVEL                  info
--enable-noop-endpoint       BULKHEAD_ENABLE_NOOP_ENDPOINT       false
===========================  ==================================  =========

With no ``--policy-file`` and no ``--profile``, the server enforces the
cluster's ``ClusterContainerPolicy``/``ContainerPolicy`` objects instead,
listed and watched by ``webhook.policy.cache`` with the in-cluster service
account or ``--kubeconfig``; without either credential there is nothing to
enforce and that is an error.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from webhook import profiles

ENV_PREFIX: Final = "BULKHEAD_"
#: The largest AdmissionReview body accepted (the brief's 7 MiB).
MAX_BODY_BYTES: Final = 7 * 1024 * 1024
#: The deepest JSON nesting accepted in a review.
MAX_JSON_DEPTH: Final = 100
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
DEFAULT_LATEST_MINOR: Final = profiles.DEFAULT_LATEST_MINOR

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting cannot be used; the message names the flag and environment variable."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything ``bulkhead serve`` and its worker need, already checked."""

    tls_cert_file: str
    tls_private_key_file: str
    client_ca_file: str | None = None
    policy_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    pss_latest_minor: int = DEFAULT_LATEST_MINOR
    address: str = "0.0.0.0"  # noqa: S104 - a webhook listens for the apiserver on every address
    port: int = 8443
    reload_interval: float = 1.0
    shutdown_timeout: float = 25.0
    max_connections: int = 1024
    log_level: str = "info"
    enable_noop_endpoint: bool = False
    #: Watch the policy CRs (no files, no profiles); ``kubeconfig`` ``None``: in-cluster.
    watch_cluster: bool = False
    kubeconfig: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """The settings ``to_json`` wrote (the worker's copy of the parent's settings)."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise SettingsError("worker settings must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        for name in ("policy_files", "profiles"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _pick(
    name: str,
    flags: Mapping[str, object],
    environ: Mapping[str, str],
    convert: Callable[[str], T],
    default: T,
) -> T:
    """The flag if given, else the environment variable if set, else ``default``."""
    env = _env_name(name)
    flagged = flags.get(name)
    try:
        if flagged is not None:
            return convert(str(flagged))
        if environ.get(env, "") != "":
            return convert(environ[env])
    except ValueError as err:
        raise SettingsError(f"{_flag_name(name)} / {env}: {err}") from err
    return default


def _list(
    name: str, flags: Mapping[str, object], environ: Mapping[str, str], *, env_name: str
) -> tuple[str, ...]:
    flagged = flags.get(name)
    if flagged:
        if not isinstance(flagged, list | tuple):
            raise SettingsError(f"{_flag_name(name)}: expected a list")
        return tuple(str(item) for item in flagged)
    raw = environ.get(env_name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number of seconds, not {text!r}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be between 0 and 65535, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, not {text}")
    return value


def _address(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError as err:
        raise ValueError(f"must be an IP address, not {text!r}") from err
    return text


def _log_level(text: str) -> str:
    level = text.lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, not {text!r}")


def _latest_minor(text: str) -> int:
    minor = profiles.parse_version(text)
    if minor is None or minor > profiles.NEWEST_MINOR:
        raise ValueError(f"must be between v1.0 and v1.{profiles.NEWEST_MINOR}, not {text!r}")
    return minor


def _required(name: str, flags: Mapping[str, object], environ: Mapping[str, str]) -> str:
    value = _pick(name, flags, environ, str, "")
    if not value:
        raise SettingsError(f"{_flag_name(name)} (or {_env_name(name)}) is required")
    return value


def resolve(flags: Mapping[str, object], environ: Mapping[str, str]) -> Settings:
    """Settings from flags (``None`` = not given), then ``BULKHEAD_*`` variables, then defaults."""
    policy_files = _list("policy_file", flags, environ, env_name="BULKHEAD_POLICY_FILES")
    profile_texts = _list("profile", flags, environ, env_name="BULKHEAD_PROFILES")
    kubeconfig = _pick("kubeconfig", flags, environ, str, "") or None
    watch_cluster = not policy_files and not profile_texts
    if watch_cluster and kubeconfig is None and not environ.get("KUBERNETES_SERVICE_HOST"):
        raise SettingsError(
            "nothing to enforce: give --policy-file (BULKHEAD_POLICY_FILES) "
            "or --profile (BULKHEAD_PROFILES), or run in a cluster (or give --kubeconfig, "
            "BULKHEAD_KUBECONFIG) to enforce its policy objects"
        )
    latest = _pick("pss_latest", flags, environ, _latest_minor, profiles.DEFAULT_LATEST_MINOR)
    client_ca = _pick("client_ca_file", flags, environ, str, "")
    return Settings(
        tls_cert_file=_required("tls_cert_file", flags, environ),
        tls_private_key_file=_required("tls_private_key_file", flags, environ),
        client_ca_file=client_ca or None,
        policy_files=policy_files,
        profiles=profile_texts,
        pss_latest_minor=latest,
        address=_pick("address", flags, environ, _address, "0.0.0.0"),  # noqa: S104
        port=_pick("port", flags, environ, _port, 8443),
        reload_interval=_pick("reload_interval", flags, environ, _positive_float, 1.0),
        shutdown_timeout=_pick("shutdown_timeout", flags, environ, _positive_float, 25.0),
        max_connections=_pick("max_connections", flags, environ, _positive_int, 1024),
        log_level=_pick("log_level", flags, environ, _log_level, "info"),
        enable_noop_endpoint=_pick("enable_noop_endpoint", flags, environ, _boolean, False),
        watch_cluster=watch_cluster,
        kubeconfig=kubeconfig,
    )
