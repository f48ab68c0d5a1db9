"""Installing Bulkhead's CRDs and RBAC into the test control plane, and running the operator.

Owns: applying ``manifests/crds`` (and waiting until they are Established),
applying ``manifests/rbac`` rendered for a test (its namespace, unique
cluster-scoped names, the webhook configuration's name), kubeconfigs that
authenticate as the ServiceAccounts with TokenRequest tokens (``kubectl
create token``), so every test runs the operator and the policy cache with
exactly the manifests' permissions, ``OperatorProcess``: the real
``bulkhead operator`` CLI as a child process, and ``ProjectedSecret``: the
operator's serving Secret delivered to ``bulkhead serve`` as files, the way
kubelet mounts it.

I/O: runs kubectl, writes kubeconfigs, logs and Secret files in the
directory it is given, starts processes in their own sessions and signals
only those.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pathlib
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Self, TypeVar

import yaml
from prometheus_client import parser

from devcluster import controlplane, webhookserver

REPO = controlplane.REPO_ROOT
#: The Secret the operator writes the serving certificate into (``--tls-secret``).
TLS_SECRET = "bulkhead-webhook-tls"
CRDS = REPO / "manifests" / "crds"
RBAC = REPO / "manifests" / "rbac"
GROUP_PATH = "/apis/bulkhead.dev/v1alpha1"
WEBHOOKS_PATH = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
#: ``bulkhead operator`` lifetimes short enough to watch a whole CA rotation in a test.
FAST_ROTATION = (
    "--ca-lifetime=15s",
    "--cert-lifetime=6s",
    "--rotation-overlap=1.5s",
    "--clock-skew=0s",
    "--check-interval=0.5s",
)

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, interval: float = 0.1, what: str = ""
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}: last {last!r}")


def install_crds(cp: controlplane.ControlPlane) -> None:
    """Apply the generated CRDs and wait until the apiserver serves both kinds."""
    cp.kubectl("apply", "-f", str(CRDS))
    cp.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=30s",
        "crd/clustercontainerpolicies.bulkhead.dev",
        "crd/containerpolicies.bulkhead.dev",
    )


def rbac_documents(
    *, namespace: str, suffix: str, webhook_configuration: str
) -> list[dict[str, Any]]:
    """``manifests/rbac`` in ``namespace``; cluster-scoped names get ``-suffix`` unless empty."""
    out: list[dict[str, Any]] = []
    for path in sorted(RBAC.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc:
                continue
            metadata = doc["metadata"]
            if "namespace" in metadata:
                metadata["namespace"] = namespace
            if suffix and doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
                metadata["name"] = f"{metadata['name']}-{suffix}"
            if suffix and doc["kind"] == "ClusterRoleBinding":
                doc["roleRef"]["name"] = f"{doc['roleRef']['name']}-{suffix}"
            for subject in doc.get("subjects", []):
                subject["namespace"] = namespace
            for rule in doc.get("rules", []):
                if "validatingwebhookconfigurations" in rule.get("resources", []):
                    rule["resourceNames"] = [webhook_configuration]
            out.append(doc)
    return out


def token_kubeconfig(
    cp: controlplane.ControlPlane,
    *,
    namespace: str,
    service_account: str,
    directory: pathlib.Path,
    duration: str = "2h",
) -> pathlib.Path:
    """A kubeconfig holding a TokenRequest token for ``namespace/service_account``."""
    token = cp.kubectl(
        "create", "token", service_account, "-n", namespace, f"--duration={duration}"
    ).stdout.strip()
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test",
                "cluster": {"server": cp.url, "certificate-authority": str(cp.ca_cert_path)},
            }
        ],
        "users": [{"name": service_account, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "test", "user": service_account}}],
        "current-context": "sa",
    }
    path = directory / f"{namespace}-{service_account}.kubeconfig"
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(0o600)
    return path


class Install:
    """RBAC for one test (or the demo), with a kubeconfig per ServiceAccount.

    Cluster-scoped names get a random suffix so tests sharing a control plane
    never meet; ``unique_names=False`` keeps the manifests' names (the demo,
    which has a control plane of its own). ``token_duration`` is how long the
    ServiceAccount tokens last (``kubectl create token --duration``).
    """

    def __init__(
        self,
        cp: controlplane.ControlPlane,
        *,
        namespace: str,
        directory: pathlib.Path,
        webhook_configuration: str | None = None,
        unique_names: bool = True,
        token_duration: str = "2h",  # noqa: S107 - a lifetime, not a secret
    ) -> None:
        self.cp = cp
        self.namespace = namespace
        self.suffix = secrets.token_hex(3) if unique_names else ""
        self.webhook_configuration = webhook_configuration or f"bulkhead-test-{self.suffix}"
        self.directory = directory
        self._documents = rbac_documents(
            namespace=namespace,
            suffix=self.suffix,
            webhook_configuration=self.webhook_configuration,
        )
        cp.apply(*self._documents)
        self.operator_kubeconfig, self.webhook_kubeconfig = (
            token_kubeconfig(
                cp,
                namespace=namespace,
                service_account=account,
                directory=directory,
                duration=token_duration,
            )
            for account in ("bulkhead-operator", "bulkhead-webhook")
        )
        self.audit_kubeconfig = token_kubeconfig(
            cp, namespace=namespace, service_account="bulkhead-audit", directory=directory
        )

    def remove(self) -> None:
        for doc in self._documents:
            if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
                self.cp.kubectl(
                    "delete", doc["kind"].lower(), doc["metadata"]["name"], "--ignore-not-found"
                )


def webhook_configuration(name: str, *, namespace: str) -> dict[str, Any]:
    """A ValidatingWebhookConfiguration that can judge nothing but this test's namespace.

    It points at a closed loopback port with ``failurePolicy: Ignore`` and
    selects only ``namespace``, so it never disturbs another test.
    """
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": f"{index}.validate.bulkhead.dev",
                "clientConfig": {"url": "https://127.0.0.1:9/validate"},
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["configmaps"],
                        "scope": "Namespaced",
                    }
                ],
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": f"{namespace}-never"}
                },
                "failurePolicy": "Ignore",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
            }
            for index in ("first", "second")
        ],
    }


def get_json(cp: controlplane.ControlPlane, path: str) -> dict[str, Any] | None:
    """GET as admin; ``None`` on 404."""
    status, body = cp.request("GET", path)
    if status == 404:
        return None
    if status != 200:
        raise AssertionError(f"GET {path} -> {status}: {body[:500]!r}")
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def policy_path(kind: str, name: str, namespace: str | None = None) -> str:
    if kind == "ClusterContainerPolicy":
        return f"{GROUP_PATH}/clustercontainerpolicies/{name}"
    return f"{GROUP_PATH}/namespaces/{namespace}/containerpolicies/{name}"


def ready_condition(document: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not document:
        return None
    for condition in (document.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            found: dict[str, Any] = condition
            return found
    return None


class OperatorProcess:
    """``bulkhead operator`` as a child process in its own session."""

    def __init__(
        self,
        *,
        kubeconfig: pathlib.Path,
        namespace: str,
        webhook_configuration: str,
        log_path: pathlib.Path,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.webhook_configuration = webhook_configuration
        self.log_path = log_path
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.health_port = controlplane.free_port()
        self.metrics_port = controlplane.free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The process id (and process-group id) while started."""
        return self._proc.pid if self._proc is not None else None

    def argv(self) -> list[str]:
        return [
            *webhookserver.bulkhead_command(),
            "operator",
            f"--kubeconfig={self.kubeconfig}",
            f"--namespace={self.namespace}",
            f"--webhook-configuration={self.webhook_configuration}",
            "--metrics-address=127.0.0.1",
            f"--metrics-port={self.metrics_port}",
            f"--health-port={self.health_port}",
            *self.extra_args,
        ]

    def start(self) -> Self:
        self._proc = controlplane.spawn(
            self.argv(), log_path=self.log_path, env={**os.environ, **self.env}
        )
        wait_for(self.healthy, timeout=30, interval=0.2, what=f"operator health ({self.log()})")
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def healthy(self) -> bool:
        if not self.running:
            raise AssertionError(f"the operator exited:\n{self.log()}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            url = f"http://127.0.0.1:{self.health_port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        return False

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text: str = response.read().decode()
            return text

    def reconciled_after(self, moment: float, *, timeout: float = 60.0) -> None:
        """Wait until a TLS reconcile that began after ``moment`` (a Unix time) has succeeded.

        ``bulkhead_tls_last_success_timestamp_seconds`` is stamped after a
        reconcile has read the cluster, so the first stamp past ``moment`` may
        come from a reconcile that read before it; the stamp after that cannot.
        """

        def stamp() -> float:
            for family in parser.text_string_to_metric_families(self.metrics()):
                for sample in family.samples:
                    if sample.name == "bulkhead_tls_last_success_timestamp_seconds":
                        return float(sample.value)
            return 0.0

        first = wait_for(
            lambda: (value := stamp()) > moment and value,
            timeout=timeout,
            what=f"a TLS reconcile after {moment}",
        )
        wait_for(lambda: stamp() > first, timeout=timeout, what=f"a TLS reconcile after {first}")

    def stop(self, *, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._proc.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up of any kind."""
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)

    def log(self) -> str:
        return controlplane.log_tail(self.log_path, lines=60)

    @contextlib.contextmanager
    def running_context(self) -> Iterator[Self]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


class ProjectedSecret:
    """A kubelet stand-in: the Secret's keys as files, swapped atomically on every change.

    Like kubelet's AtomicWriter, every version goes into a fresh directory and
    one symlink (``..data``) is replaced, so a reader never sees a new
    certificate with an old key. A context manager: entering waits until the
    Secret exists, then a thread follows its changes until exit.
    """

    def __init__(
        self,
        cp: controlplane.ControlPlane,
        *,
        namespace: str,
        name: str = TLS_SECRET,
        directory: pathlib.Path,
        timeout: float = 15.0,
    ) -> None:
        self._cp = cp
        self._path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
        self.directory = directory
        self._timeout = timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="projected-secret", daemon=True)
        self._seen: dict[str, str] | None = None
        self.versions = 0

    def path(self, key: str) -> pathlib.Path:
        return self.directory / "..data" / key

    def serving(self) -> webhookserver.ServingPKI:
        """The files ``bulkhead serve`` reads; the operator's CA signs the certificate."""
        return webhookserver.ServingPKI(
            ca=None,
            ca_path=self.path("ca.crt"),
            cert_path=self.path("tls.crt"),
            key_path=self.path("tls.key"),
            dns_names=(),
        )

    def sync(self) -> bool:
        secret = get_json(self._cp, self._path)
        if secret is None or secret.get("data") == self._seen:
            return secret is not None
        self.versions += 1
        version = self.directory / f"..version-{self.versions}"
        version.mkdir(mode=0o700)
        for key, value in secret["data"].items():
            (version / key).write_bytes(base64.b64decode(value))
        link = self.directory / "..data.tmp"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(version.name)
        os.replace(link, self.directory / "..data")
        self._seen = secret["data"]
        return True

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            with contextlib.suppress(OSError, AssertionError):
                self.sync()

    def __enter__(self) -> Self:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        wait_for(self.sync, timeout=self._timeout, what=f"the Secret {self._path}")
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=5)
