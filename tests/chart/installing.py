"""The chart installed into the test control plane, with its processes run on loopback.

Owns: ``helm install/upgrade/uninstall`` of ``charts/bulkhead`` with values
that route the webhook Service to loopback (an ExternalName Service: the
apiserver resolves webhook Services itself), and running what the chart's
Deployments would run, since no kubelet runs here: ``bulkhead operator``
and ``bulkhead serve`` with the chart's own arguments and tokens of the
chart's ServiceAccounts (so the chart's RBAC is all they get), the webhook
with the certificate from the operator's Secret, as the chart mounts it.

``bulkhead serve`` runs as the chart runs it, with no ``--policy-file``:
it lists and watches the policy objects helm stored, logged in as the
chart's ``bulkhead-webhook`` ServiceAccount.

I/O: runs helm and kubectl, starts processes in their own sessions (and
signals only those), writes files under the directory it is given, and
talks HTTPS to 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import json
import pathlib
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import yaml

from devcluster import controlplane, webhookserver
from tests.chart import rendering

NAMESPACE: Final = rendering.NAMESPACE
RELEASE: Final = rendering.RELEASE
TLS_SECRET: Final = "bulkhead-webhook-tls"
CONFIGURATION: Final = "bulkhead"
WEBHOOK: Final = "validate.bulkhead.dev"
SERVICE_DNS: Final = f"bulkhead.{NAMESPACE}.svc"


#: Kinds of other projects the chart can render: (group, version, kind, plural).
STAND_INS: Final = (
    ("cert-manager.io", "v1", "Certificate", "certificates"),
    ("cert-manager.io", "v1", "Issuer", "issuers"),
    ("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors"),
)


def _stand_in(group: str, version: str, kind: str, plural: str) -> dict[str, Any]:
    """A namespaced CRD serving ``kind`` that accepts any fields."""
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def wait_established(cp: controlplane.ControlPlane, *crds: str) -> None:
    cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in crds))


@contextlib.contextmanager
def stand_in_crds(cp: controlplane.ControlPlane) -> Iterator[None]:
    """cert-manager's and the Prometheus Operator's kinds served (neither runs here)."""
    crds = [_stand_in(*spec) for spec in STAND_INS]
    listed = {"apiVersion": "v1", "kind": "List", "items": crds}
    cp.kubectl("apply", "--server-side", "-f", "-", input_text=json.dumps(listed))
    try:
        wait_established(cp, *(crd["metadata"]["name"] for crd in crds))
        yield
    finally:
        for crd in crds:
            cp.kubectl("delete", "crd", crd["metadata"]["name"], "--ignore-not-found")


def loopback_values(port: int, **overrides: Any) -> dict[str, Any]:
    """Chart values for this machine: any digest (nothing is pulled), Service -> localhost:port."""
    values = rendering.merge(
        rendering.BASE, {"webhook": {"service": {"externalName": "localhost", "port": port}}}
    )
    return rendering.merge(values, overrides)


class Release:
    """One helm release of the chart in the control plane."""

    def __init__(self, cp: controlplane.ControlPlane, directory: pathlib.Path) -> None:
        self.cp = cp
        self.directory = directory
        self.revision = 0

    def _values_file(self, values: Mapping[str, Any]) -> pathlib.Path:
        self.revision += 1
        path = self.directory / f"values-{self.revision}.json"
        path.write_text(json.dumps(values), encoding="utf-8")
        return path

    def install(self, values: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
        return self.cp.helm(
            "install", RELEASE, str(rendering.CHART), "--namespace", NAMESPACE,
            "--values", str(self._values_file(values)),
        )  # fmt: skip

    def upgrade(self, values: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
        return self.cp.helm(
            "upgrade", RELEASE, str(rendering.CHART), "--namespace", NAMESPACE,
            "--values", str(self._values_file(values)),
        )  # fmt: skip

    def uninstall(self) -> subprocess.CompletedProcess[str]:
        return self.cp.helm("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait")

    def manifest(self) -> list[dict[str, Any]]:
        """What helm says the release installed (``helm get manifest``)."""
        text = self.cp.helm("get", "manifest", RELEASE, "--namespace", NAMESPACE).stdout
        return [doc for doc in yaml.safe_load_all(text) if doc]


def container_args(docs: Sequence[Mapping[str, Any]], deployment: str) -> list[str]:
    """The arguments the chart gives the container of ``deployment``."""
    workload = rendering.find(docs, "Deployment", deployment)
    args: list[str] = rendering.pod_spec(workload)["containers"][0]["args"]
    return list(args)


def replace_flags(args: Sequence[str], replacements: Mapping[str, str | None]) -> list[str]:
    """``args`` with each ``--flag=value`` in ``replacements`` replaced (None: dropped)."""
    out: list[str] = []
    for arg in args:
        name = arg.split("=", 1)[0].removeprefix("--")
        if name in replacements:
            continue
        out.append(arg)
    out.extend(f"--{name}={value}" for name, value in replacements.items() if value is not None)
    return out


def secret_data(cp: controlplane.ControlPlane, name: str) -> dict[str, bytes] | None:
    """The decoded data of a Secret in the release namespace, or None while it is missing."""
    result = cp.kubectl("get", "secret", name, "-n", NAMESPACE, "-o", "json", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    data = json.loads(result.stdout).get("data") or {}
    return {key: base64.b64decode(value) for key, value in data.items()}


def ca_bundle(cp: controlplane.ControlPlane) -> bytes | None:
    """The caBundle of the chart's webhook, None if the configuration or the bundle is missing."""
    result = cp.kubectl(
        "get", "validatingwebhookconfiguration", CONFIGURATION, "-o", "json", check=False
    )
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    (webhook,) = json.loads(result.stdout)["webhooks"]
    bundle = webhook["clientConfig"].get("caBundle")
    return base64.b64decode(bundle) if bundle else None


def chart_webhook(
    *,
    chart_args: Sequence[str],
    tls_dir: pathlib.Path,
    kubeconfig: pathlib.Path,
    port: int,
    log_path: pathlib.Path,
) -> webhookserver.WebhookServer:
    """``bulkhead serve`` with the chart's arguments, on 127.0.0.1 (not started).

    The chart's own listen address, ports and certificate paths give way to
    loopback and the Secret's keys where the chart's volume puts them; in a
    Pod the webhook logs in with the projected token, here with a token of
    the same ServiceAccount.
    """
    if not chart_args or chart_args[0] != "serve":
        raise AssertionError(f"the chart's webhook does not run `serve`: {chart_args}")
    own = ("tls-cert-file", "tls-private-key-file", "address", "port", "probe-port")
    replacements: dict[str, str | None] = dict.fromkeys(own)
    replacements["kubeconfig"] = str(kubeconfig)
    return webhookserver.WebhookServer(
        serving=webhookserver.ServingPKI(
            ca=None,
            ca_path=tls_dir / "ca.crt",
            cert_path=tls_dir / "tls.crt",
            key_path=tls_dir / "tls.key",
            dns_names=(),
        ),
        port=port,
        log_path=log_path,
        extra_args=replace_flags(chart_args[1:], replacements),
    )


def write_tls(data: Mapping[str, bytes], directory: pathlib.Path) -> None:
    """The serving Secret's keys as files, as the chart's Secret volume presents them."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for key in ("tls.crt", "tls.key", "ca.crt"):
        path = directory / key
        path.touch(mode=0o600)
        path.write_bytes(data[key])
