"""The webhook server's settings, resolved from one place. Pure, no I/O.

Every setting has one name and three sources, in order of precedence:
a command-line flag, then the ``BULKHEAD_<NAME>`` environment variable, then
the default. ``resolve`` takes the flags (``None`` when a flag was not given)
and the environment as plain mappings, checks every value and returns one
frozen ``Settings``; ``SettingsError`` (``webhook.settingsources``, which also
owns the precedence and the parsers shared with the operator) names the flag
and the variable at fault. The serving process hands the resolved settings
to its worker as JSON (``to_json`` / ``from_json``) so both always agree.

===========================  ==================================  =========
flag                         environment                         default
===========================  ==================================  =========
--tls-cert-file              BULKHEAD_TLS_CERT_FILE              required
--tls-private-key-file       BULKHEAD_TLS_PRIVATE_KEY_FILE       required
--client-ca-file             BULKHEAD_CLIENT_CA_FILE             none
--policy-file (repeatable)   BULKHEAD_POLICY_FILES (comma list)  none
--profile (repeatable)       BULKHEAD_PROFILES (comma list)      none
--kubeconfig                 BULKHEAD_KUBECONFIG                 in-cluster account
--pss-latest                 BULKHEAD_PSS_LATEST                 v1.37
--address                    BULKHEAD_ADDRESS                    0.0.0.0
--port                       BULKHEAD_PORT                       8443
--reload-interval            BULKHEAD_RELOAD_INTERVAL            1.0 s
--shutdown-timeout           BULKHEAD_SHUTDOWN_TIMEOUT           25 s
--drain-grace                BULKHEAD_DRAIN_GRACE                2.0 s
--probe-port                 BULKHEAD_PROBE_PORT                 8080
--workers                    BULKHEAD_WORKERS                    CPUs usable
--worker-memory-mib          BULKHEAD_WORKER_MEMORY_MIB          176
--decision-timeout           BULKHEAD_DECISION_TIMEOUT           4.0 s
--registry-timeout           BULKHEAD_REGISTRY_TIMEOUT           decision / 2
--registry-ca-file           BULKHEAD_REGISTRY_CA_FILE           system store
--registry-credentials-file  BULKHEAD_REGISTRY_CREDENTIALS_FILE  none (anonymous)
--handshake-timeout          BULKHEAD_HANDSHAKE_TIMEOUT          10 s
--header-timeout             BULKHEAD_HEADER_TIMEOUT             10 s
--body-timeout               BULKHEAD_BODY_TIMEOUT               10 s
--idle-timeout               BULKHEAD_IDLE_TIMEOUT               120 s
--max-connections            BULKHEAD_MAX_CONNECTIONS            1024
--body-budget-mib            BULKHEAD_BODY_BUDGET_MIB            64
--log-level                  BULKHEAD_LOG_LEVEL                  info
--enable-noop-endpoint       BULKHEAD_ENABLE_NOOP_ENDPOINT       false
===========================  ==================================  =========

``--probe-port`` serves ``/healthz``, ``/readyz`` and ``/metrics`` over plain
HTTP on the same address (``0`` picks a free port). ``--decision-timeout``
should be about 80 % of the webhook's ``timeoutSeconds``, so a review that
takes too long is denied clearly before the apiserver gives up.
``--registry-timeout`` bounds the verification of one review's images
(``imageSignatures``) and must be below ``--decision-timeout``; an image not
verified in time is denied. ``--registry-ca-file`` replaces the system trust
store for registries (a private registry's CA); ``--registry-credentials-file``
is a Docker config file (a mounted ``kubernetes.io/dockerconfigjson`` Secret)
with the credentials for registries' token services.

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
import os
from collections.abc import Mapping
from typing import Any, Final

from webhook import profiles, settingsources

#: The largest AdmissionReview body accepted: 7 MiB.
MAX_BODY_BYTES: Final = 7 * 1024 * 1024
#: The deepest JSON nesting accepted in a review.
MAX_JSON_DEPTH: Final = 100
#: The most JSON values (members of objects and items of arrays) accepted in a review:
#: decoded, each costs 50-100 bytes, so this bounds a worker's memory (a 10,000-container
#: pod has about 100,000).
MAX_JSON_VALUES: Final = 500_000
DEFAULT_LATEST_MINOR: Final = profiles.DEFAULT_LATEST_MINOR


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
    drain_grace: float = 2.0
    probe_port: int = 8080
    workers: int = 1
    worker_memory_mib: int = 176
    decision_timeout: float = 4.0
    registry_timeout: float = 2.0
    registry_ca_file: str | None = None
    registry_credentials_file: str | None = None
    handshake_timeout: float = 10.0
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    idle_timeout: float = 120.0
    max_connections: int = 1024
    body_budget_mib: int = 64
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
            raise settingsources.SettingsError("worker settings must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        for name in ("policy_files", "profiles"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


def _list(
    name: str, flags: Mapping[str, object], environ: Mapping[str, str], *, env_name: str
) -> tuple[str, ...]:
    flagged = flags.get(name)
    if flagged:
        if not isinstance(flagged, list | tuple):
            raise settingsources.SettingsError(f"{settingsources.flag_name(name)}: expected a list")
        return tuple(str(item) for item in flagged)
    raw = environ.get(env_name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number of seconds, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, not {text}")
    return value


def usable_cpus() -> int:
    """CPUs this process may run on (the default number of workers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _address(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError as err:
        raise ValueError(f"must be an IP address, not {text!r}") from err
    return text


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, not {text!r}")


def _required(name: str, flags: Mapping[str, object], environ: Mapping[str, str]) -> str:
    value = settingsources.pick(name, flags, environ, str, "")
    if not value:
        flag, variable = settingsources.flag_name(name), settingsources.variable_name(name)
        raise settingsources.SettingsError(f"{flag} (or {variable}) is required")
    return value


def resolve(flags: Mapping[str, object], environ: Mapping[str, str]) -> Settings:
    """Settings from flags (``None`` = not given), then ``BULKHEAD_*`` variables, then defaults."""
    policy_files = _list("policy_file", flags, environ, env_name="BULKHEAD_POLICY_FILES")
    profile_texts = _list("profile", flags, environ, env_name="BULKHEAD_PROFILES")
    kubeconfig = settingsources.pick("kubeconfig", flags, environ, str, "") or None
    watch_cluster = not policy_files and not profile_texts
    if watch_cluster and kubeconfig is None and not environ.get("KUBERNETES_SERVICE_HOST"):
        raise settingsources.SettingsError(
            "nothing to enforce: give --policy-file (BULKHEAD_POLICY_FILES) "
            "or --profile (BULKHEAD_PROFILES), or run in a cluster (or give --kubeconfig, "
            "BULKHEAD_KUBECONFIG) to enforce its policy objects"
        )
    latest = settingsources.pick(
        "pss_latest", flags, environ, settingsources.latest_minor, profiles.DEFAULT_LATEST_MINOR
    )
    client_ca = settingsources.pick("client_ca_file", flags, environ, str, "")
    decision_timeout = settingsources.pick("decision_timeout", flags, environ, _positive_float, 4.0)
    registry_timeout = settingsources.pick(
        "registry_timeout", flags, environ, _positive_float, decision_timeout / 2
    )
    if registry_timeout >= decision_timeout:
        raise settingsources.SettingsError(
            f"--registry-timeout (BULKHEAD_REGISTRY_TIMEOUT) {registry_timeout:g}s must be "
            f"below --decision-timeout {decision_timeout:g}s, so a slow registry is a clear denial"
        )
    registry_ca = settingsources.pick("registry_ca_file", flags, environ, str, "")
    registry_credentials = settingsources.pick("registry_credentials_file", flags, environ, str, "")
    return Settings(
        tls_cert_file=_required("tls_cert_file", flags, environ),
        tls_private_key_file=_required("tls_private_key_file", flags, environ),
        client_ca_file=client_ca or None,
        policy_files=policy_files,
        profiles=profile_texts,
        pss_latest_minor=latest,
        address=settingsources.pick("address", flags, environ, _address, "0.0.0.0"),  # noqa: S104
        port=settingsources.pick("port", flags, environ, settingsources.port, 8443),
        reload_interval=settingsources.pick(
            "reload_interval", flags, environ, _positive_float, 1.0
        ),
        shutdown_timeout=settingsources.pick(
            "shutdown_timeout", flags, environ, _positive_float, 25.0
        ),
        drain_grace=settingsources.pick("drain_grace", flags, environ, _positive_float, 2.0),
        probe_port=settingsources.pick("probe_port", flags, environ, settingsources.port, 8080),
        workers=settingsources.pick("workers", flags, environ, _positive_int, usable_cpus()),
        worker_memory_mib=settingsources.pick(
            "worker_memory_mib", flags, environ, _positive_int, 176
        ),
        decision_timeout=decision_timeout,
        registry_timeout=registry_timeout,
        registry_ca_file=registry_ca or None,
        registry_credentials_file=registry_credentials or None,
        handshake_timeout=settingsources.pick(
            "handshake_timeout", flags, environ, _positive_float, 10.0
        ),
        header_timeout=settingsources.pick("header_timeout", flags, environ, _positive_float, 10.0),
        body_timeout=settingsources.pick("body_timeout", flags, environ, _positive_float, 10.0),
        idle_timeout=settingsources.pick("idle_timeout", flags, environ, _positive_float, 120.0),
        max_connections=settingsources.pick("max_connections", flags, environ, _positive_int, 1024),
        body_budget_mib=settingsources.pick("body_budget_mib", flags, environ, _positive_int, 64),
        log_level=settingsources.pick(
            "log_level", flags, environ, settingsources.log_level, "info"
        ),
        enable_noop_endpoint=settingsources.pick(
            "enable_noop_endpoint", flags, environ, _boolean, False
        ),
        watch_cluster=watch_cluster,
        kubeconfig=kubeconfig,
    )
