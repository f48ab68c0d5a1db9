"""The webhook server's settings, resolved from one place. Pure, no I/O.

Every setting is declared once, in ``TABLE`` (``webhook.settingtable``):
its flag, its ``BULKHEAD_<NAME>`` environment variable, its default and its
help, from which ``bulkhead serve``'s flags and the table in
``docs/server.md`` are derived. A flag wins over the variable, which wins
over the default. ``resolve`` takes the flags (``None`` when a flag was not
given) and the environment as plain mappings, checks every value and
returns one frozen ``Settings``; ``SettingsError`` names the flag and the
variable at fault. The serving process hands the resolved settings to its
worker as JSON (``to_json`` / ``from_json``) so both always agree.

``--probe-port`` serves ``/healthz``, ``/readyz`` and ``/metrics`` over plain
HTTP on the same address (``0`` picks a free port). ``--decision-timeout``
should be about 80 % of the webhook's ``timeoutSeconds``, so a review that
takes too long is denied clearly before the apiserver gives up.

``--registry-timeout`` bounds the verification of one review's images
(``imageSignatures``) and must be below ``--decision-timeout``; an image not
verified in time is denied. ``--registry-ca-file`` replaces the system trust
store for registries (a private registry's CA); ``--registry-credentials-file``
is a Docker config file (a mounted ``kubernetes.io/dockerconfigjson`` Secret)
with the credentials for registries. ``--registry-pull-secrets`` also uses
each Pod's ``imagePullSecrets`` (or its ServiceAccount's), read through a
watch of the cluster's pull Secrets: it needs the cluster (in-cluster or
``--kubeconfig``), also when the policies come from files.

With no ``--policy-file`` and no ``--profile``, the server enforces the
cluster's ``ClusterContainerPolicy``/``ContainerPolicy`` objects instead,
listed and watched by ``webhook.policy.cache`` with the in-cluster service
account or ``--kubeconfig``; without either credential there is nothing to
enforce and that is an error.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any, Final

from webhook import profiles, settingtable

#: The largest AdmissionReview body accepted: 7 MiB.
MAX_BODY_BYTES: Final = 7 * 1024 * 1024
#: The deepest JSON nesting accepted in a review.
MAX_JSON_DEPTH: Final = 100
#: The most JSON values (members of objects and items of arrays) accepted in a review:
#: decoded, each costs 50-100 bytes, so this bounds a worker's memory (a 10,000-container
#: pod has about 100,000).
MAX_JSON_VALUES: Final = 500_000
DEFAULT_LATEST_MINOR: Final = profiles.DEFAULT_LATEST_MINOR


_S = settingtable.Setting
_SECONDS: Final = "SECONDS"

TABLE: Final = settingtable.Table(
    (
        _S(
            name="tls_cert_file",
            help="serving certificate (PEM)",
            metavar="FILE",
            default_text="required",
        ),
        _S(
            name="tls_private_key_file",
            help="its private key (PEM)",
            metavar="FILE",
            default_text="required",
        ),
        _S(
            name="client_ca_file",
            help="require client certificates from this CA",
            metavar="FILE",
            note="without it, no client certificate is asked for",
        ),
        _S(
            name="policy_file",
            variable="BULKHEAD_POLICY_FILES",
            repeatable=True,
            metavar="PATH",
            help="policy YAML file or directory, reloaded on change",
        ),
        _S(
            name="profile",
            variable="BULKHEAD_PROFILES",
            repeatable=True,
            metavar="LEVEL[:VERSION]",
            help="enforce a built-in Pod Security Standard as a Deny policy",
        ),
        _S(
            name="kubeconfig",
            metavar="FILE",
            help="with no --policy-file/--profile: watch the cluster's policies with this "
            "kubeconfig (and the pull Secrets, with --registry-pull-secrets)",
            default_text="the in-cluster service account",
        ),
        settingtable.pss_latest_row(),
        _S(name="address", help="listen address", default="0.0.0.0"),  # noqa: S104
        _S(name="port", help="listen port", default="8443", note="`0`: any free port, logged"),
        _S(
            name="reload_interval",
            help="certificate and policy file poll period",
            metavar=_SECONDS,
            default="1",
        ),
        _S(name="shutdown_timeout", help="drain limit", metavar=_SECONDS, default="25"),
        _S(
            name="shutdown_quiet",
            metavar=_SECONDS,
            default="3",
            help="after SIGTERM, accept on the webhook port until no connection came for this long",
            note="a client still routing to the Pod is answered (`Connection: close`), not refused",
        ),
        _S(
            name="drain_grace",
            metavar=_SECONDS,
            default="2",
            help="after SIGTERM, how long idle connections stay open for a last request",
            note="a request on them is answered with `Connection: close` instead of racing a close",
        ),
        _S(
            name="probe_port",
            help="plain-HTTP port of /healthz, /readyz, /metrics",
            default="8080",
            note="`0`: any free port, logged",
        ),
        _S(
            name="workers",
            metavar="N",
            help="worker processes",
            default_text="one per CPU the process may run on (`sched_getaffinity`)",
        ),
        _S(
            name="worker_memory_mib",
            metavar="MIB",
            default="176",
            help="a worker whose peak memory passes this is replaced once idle, one at a time",
        ),
        _S(
            name="decision_timeout",
            metavar=_SECONDS,
            default="4",
            help="deny a review not judged in time",
            note="about 80 % of the webhook's `timeoutSeconds` (the chart's is 5 s)",
        ),
        _S(
            name="findings_per_policy",
            metavar="N",
            default="20",
            help="findings of one policy spelled out in an answer; the rest are one "
            "'and K more' line",
            note="the verdict never depends on it; `bulkhead check` and the audit are not capped",
        ),
        _S(
            name="registry_timeout",
            metavar=_SECONDS,
            help="imageSignatures: limit for verifying one review's images, below "
            "--decision-timeout",
            default_text="half of `--decision-timeout`",
        ),
        _S(
            name="registry_ca_file",
            metavar="FILE",
            help="imageSignatures: PEM CA bundle trusted for registries",
            default_text="the system store",
        ),
        _S(
            name="registry_credentials_file",
            metavar="FILE",
            help="imageSignatures: registry credentials, a Docker config file (.dockerconfigjson)",
            default_text="none (anonymous)",
        ),
        _S(
            name="registry_pull_secrets",
            switch=True,
            default="false",
            help="imageSignatures: also use each Pod's imagePullSecrets (or its "
            "ServiceAccount's), watched in the cluster",
        ),
        _S(name="handshake_timeout", metavar=_SECONDS, default="10", help="TLS handshake limit"),
        _S(name="header_timeout", metavar=_SECONDS, default="10", help="request headers limit"),
        _S(name="body_timeout", metavar=_SECONDS, default="10", help="request body limit"),
        _S(
            name="idle_timeout",
            metavar=_SECONDS,
            default="120",
            help="keep-alive idle limit",
            note="longer than Go's 90 s client idle timeout, so the apiserver closes first",
        ),
        _S(name="max_connections", metavar="N", default="1024", help="open connections"),
        _S(
            name="body_budget_mib",
            metavar="MIB",
            default="64",
            help="request bodies held at once, all clients",
        ),
        settingtable.log_level_row(),
        _S(
            name="enable_noop_endpoint",
            switch=True,
            default="false",
            help="also serve POST /noop (benchmarks only)",
        ),
    )
)


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
    shutdown_quiet: float = 3.0
    drain_grace: float = 2.0
    probe_port: int = 8080
    workers: int = 1
    worker_memory_mib: int = 176
    decision_timeout: float = 4.0
    findings_per_policy: int = 20
    registry_timeout: float = 2.0
    registry_ca_file: str | None = None
    registry_credentials_file: str | None = None
    registry_pull_secrets: bool = False
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
            raise settingtable.SettingsError("worker settings must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        for name in ("policy_files", "profiles"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


def usable_cpus() -> int:
    """CPUs this process may run on (the default number of workers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, not {text!r}")


def _workers(text: str) -> int:
    return settingtable.count(text) if text else usable_cpus()


def resolve(flags: Mapping[str, object], environ: Mapping[str, str]) -> Settings:
    """Settings from flags (``None`` = not given), then ``BULKHEAD_*`` variables, then defaults."""
    policy_files = TABLE.items("policy_file", flags, environ) or ()
    profile_texts = TABLE.items("profile", flags, environ) or ()
    kubeconfig = TABLE.pick("kubeconfig", flags, environ, str) or None
    watch_cluster = not policy_files and not profile_texts
    if watch_cluster and kubeconfig is None and not environ.get("KUBERNETES_SERVICE_HOST"):
        raise settingtable.SettingsError(
            "nothing to enforce: give --policy-file (BULKHEAD_POLICY_FILES) "
            "or --profile (BULKHEAD_PROFILES), or run in a cluster (or give --kubeconfig, "
            "BULKHEAD_KUBECONFIG) to enforce its policy objects"
        )

    def seconds(name: str) -> float:
        return TABLE.pick(name, flags, environ, settingtable.seconds)

    decision_timeout = seconds("decision_timeout")
    registry_timeout = TABLE.pick(
        "registry_timeout",
        flags,
        environ,
        lambda text: settingtable.seconds(text) if text else decision_timeout / 2,
    )
    if registry_timeout >= decision_timeout:
        raise settingtable.SettingsError(
            f"--registry-timeout (BULKHEAD_REGISTRY_TIMEOUT) {registry_timeout:g}s must be "
            f"below --decision-timeout {decision_timeout:g}s, so a slow registry is a clear denial"
        )

    def count(name: str) -> int:
        return TABLE.pick(name, flags, environ, settingtable.count)

    pull_secrets = TABLE.pick("registry_pull_secrets", flags, environ, _boolean)
    if pull_secrets and kubeconfig is None and not environ.get("KUBERNETES_SERVICE_HOST"):
        raise settingtable.SettingsError(
            "--registry-pull-secrets (BULKHEAD_REGISTRY_PULL_SECRETS) reads the cluster's "
            "pull Secrets: run in a cluster or give --kubeconfig (BULKHEAD_KUBECONFIG)"
        )

    return Settings(
        tls_cert_file=TABLE.required("tls_cert_file", flags, environ),
        tls_private_key_file=TABLE.required("tls_private_key_file", flags, environ),
        client_ca_file=TABLE.pick("client_ca_file", flags, environ, str) or None,
        policy_files=policy_files,
        profiles=profile_texts,
        pss_latest_minor=TABLE.pick("pss_latest", flags, environ, settingtable.latest_minor),
        address=TABLE.pick("address", flags, environ, settingtable.ip_address),
        port=TABLE.pick("port", flags, environ, settingtable.port),
        reload_interval=seconds("reload_interval"),
        shutdown_timeout=seconds("shutdown_timeout"),
        shutdown_quiet=seconds("shutdown_quiet"),
        drain_grace=seconds("drain_grace"),
        probe_port=TABLE.pick("probe_port", flags, environ, settingtable.port),
        workers=TABLE.pick("workers", flags, environ, _workers),
        worker_memory_mib=count("worker_memory_mib"),
        decision_timeout=decision_timeout,
        findings_per_policy=count("findings_per_policy"),
        registry_timeout=registry_timeout,
        registry_ca_file=TABLE.pick("registry_ca_file", flags, environ, str) or None,
        registry_credentials_file=TABLE.pick("registry_credentials_file", flags, environ, str)
        or None,
        registry_pull_secrets=pull_secrets,
        handshake_timeout=seconds("handshake_timeout"),
        header_timeout=seconds("header_timeout"),
        body_timeout=seconds("body_timeout"),
        idle_timeout=seconds("idle_timeout"),
        max_connections=count("max_connections"),
        body_budget_mib=count("body_budget_mib"),
        log_level=TABLE.pick("log_level", flags, environ, settingtable.log_level),
        enable_noop_endpoint=TABLE.pick("enable_noop_endpoint", flags, environ, _boolean),
        watch_cluster=watch_cluster,
        kubeconfig=kubeconfig,
    )
