"""Tests of the control-plane harness itself, against the real binaries.

Owns: proving the harness gives what the rest of the suite relies on: the
pinned apiserver version, working kubectl and helm, RBAC switched on, Pods
admitted in fresh namespaces, the webhook client-certificate hook, and a
clean stop. I/O: starts processes and talks to them on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import os
import pathlib
import socket
import ssl
import threading
import time
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from devcluster import controlplane, pki

pytestmark = pytest.mark.cluster


def test_version_reports_pinned_release(control_plane: controlplane.ControlPlane) -> None:
    version = control_plane.get_json("/version")
    assert version["gitVersion"] == controlplane.KUBERNETES_VERSION
    assert (version["major"], version["minor"]) == ("1", "35")

    out = control_plane.kubectl("version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["gitVersion"] == controlplane.KUBERNETES_VERSION


def test_kubectl_creates_and_gets_configmap(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    control_plane.kubectl(
        "create", "configmap", "settings", "-n", namespace, "--from-literal=mode=strict"
    )
    out = control_plane.kubectl("get", "configmap", "settings", "-n", namespace, "-o", "json")
    configmap = json.loads(out.stdout)
    assert configmap["metadata"]["namespace"] == namespace
    assert configmap["data"] == {"mode": "strict"}


def test_rbac_forbids_unprivileged_user(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    kubeconfig = control_plane.user_kubeconfig("bulkhead-test-nobody")

    denied = control_plane.kubectl(
        "get", "configmaps", "-n", namespace, kubeconfig=kubeconfig, check=False
    )
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr
    assert 'User "bulkhead-test-nobody" cannot list resource "configmaps"' in denied.stderr

    # The same user is allowed once RBAC grants it: the authorizer decides.
    # (A Role, not the aggregated "view" ClusterRole: with no controller-manager
    # the aggregated roles have no rules.)
    control_plane.kubectl(
        "create", "role", "configmap-reader", "-n", namespace,
        "--verb=get,list", "--resource=configmaps",
    )  # fmt: skip
    control_plane.kubectl(
        "create", "rolebinding", "nobody-reads-configmaps", "-n", namespace,
        "--role=configmap-reader", "--user=bulkhead-test-nobody",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        allowed = control_plane.kubectl(
            "get", "configmaps", "-n", namespace, kubeconfig=kubeconfig, check=False
        )
        if allowed.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert allowed.returncode == 0, allowed.stderr


def test_namespace_accepts_privileged_pods(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    """Pods are stored (never run), privileged ones too, for the webhook to judge."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged", "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "registry.invalid/app:1.0",
                    "securityContext": {"privileged": True},
                }
            ]
        },
    }
    control_plane.apply(pod, namespace=namespace)
    out = control_plane.kubectl("get", "pod", "privileged", "-n", namespace, "-o", "json")
    stored = json.loads(out.stdout)
    assert stored["spec"]["serviceAccountName"] == "default"
    assert stored["status"]["phase"] == "Pending"


def test_helm_talks_to_the_cluster(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    assert control_plane.helm("version", "--short").stdout.startswith("v4.")
    releases = control_plane.helm("list", "-n", namespace, "-o", "json").stdout
    assert json.loads(releases) == []


# -- the webhook client-certificate hook, on a control plane of its own ------


class _RecordingWebhook(http.server.ThreadingHTTPServer):
    """An HTTPS admission webhook that requires a client cert and records it."""

    def __init__(self, *, serving: pki.Credential, client_ca_pem: bytes, workdir: pathlib.Path):
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        cert_path, key_path = serving.write(workdir, "webhook-serving")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_path), str(key_path))
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=client_ca_pem.decode())
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.client_subjects: list[str] = []

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    server: _RecordingWebhook

    def do_POST(self) -> None:
        review: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert isinstance(self.connection, ssl.SSLSocket)
        der = self.connection.getpeercert(binary_form=True)
        assert der is not None
        subject = x509.load_der_x509_certificate(der).subject
        common_name = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        self.server.client_subjects.append(str(common_name))
        request = review["request"]
        name = request["object"]["metadata"]["name"]
        response: dict[str, Any] = {"uid": request["uid"], "allowed": not name.startswith("deny")}
        if not response["allowed"]:
            response["status"] = {"code": 403, "message": "denied by the test webhook"}
        body = json.dumps(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclasses.dataclass(frozen=True)
class _WebhookPKI:
    serving_ca: pki.CertificateAuthority
    client_ca: pki.CertificateAuthority
    admission_config: dict[str, Any]


@pytest.fixture
def webhook_pki(tmp_path: pathlib.Path) -> _WebhookPKI:
    """A webhook serving CA, plus the client cert the apiserver will present."""
    client_ca = pki.CertificateAuthority.generate("bulkhead-test-webhook-client-ca")
    client_cert, client_key = client_ca.issue(
        common_name="kube-apiserver-webhook-client", client=True
    ).write(tmp_path, "apiserver-webhook-client")
    return _WebhookPKI(
        serving_ca=pki.CertificateAuthority.generate("bulkhead-test-webhook-serving-ca"),
        client_ca=client_ca,
        admission_config=controlplane.webhook_client_admission_config(
            cert_file=client_cert,
            key_file=client_key,
            kubeconfig_file=tmp_path / "webhook-client.kubeconfig",
        ),
    )


def test_apiserver_presents_client_cert_to_webhooks_and_stops_cleanly(
    webhook_pki: _WebhookPKI, tmp_path: pathlib.Path
) -> None:
    serving_ca = webhook_pki.serving_ca
    server = _RecordingWebhook(
        serving=serving_ca.issue(common_name="webhook", ip_addresses=["127.0.0.1"], server=True),
        client_ca_pem=webhook_pki.client_ca.cert_pem,
        workdir=tmp_path,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with controlplane.ControlPlane(
            admission_config=webhook_pki.admission_config, log_dir=tmp_path / "logs"
        ) as cp:
            ns = cp.create_namespace()
            cp.apply(_webhook_configuration(ns, port=server.port, ca_pem=serving_ca.cert_pem))
            _wait_for_webhook(cp, ns, server)
            assert set(server.client_subjects) == {"kube-apiserver-webhook-client"}

            denied = cp.kubectl(
                "create", "configmap", "deny-me", "-n", ns, check=False
            )  # fmt: skip
            assert denied.returncode != 0
            assert "denied by the test webhook" in denied.stderr

            pids = cp.pids
            temp_dirs = cp.temp_dirs
            assert cp.running
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert not cp.running
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert temp_dirs
    assert not any(path.exists() for path in temp_dirs)
    assert (tmp_path / "logs" / "kube-apiserver.log").stat().st_size > 0


def _webhook_configuration(namespace: str, *, port: int, ca_pem: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": f"client-cert-{namespace}"},
        "webhooks": [
            {
                "name": "client-cert.test.bulkhead.dev",
                "clientConfig": {
                    "url": f"https://127.0.0.1:{port}/validate",
                    "caBundle": base64.b64encode(ca_pem).decode(),
                },
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["configmaps"],
                    }
                ],
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": namespace},
                },
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 5,
            }
        ],
    }


def _wait_for_webhook(
    cp: controlplane.ControlPlane, namespace: str, server: _RecordingWebhook
) -> None:
    """Create ConfigMaps until the new webhook configuration is in effect."""
    deadline = time.monotonic() + 30
    attempt = 0
    while not server.client_subjects:
        if time.monotonic() > deadline:
            pytest.fail("the apiserver never called the test webhook")
        attempt += 1
        cp.kubectl("create", "configmap", f"probe-{attempt}", "-n", namespace)
        time.sleep(0.2)


def test_free_ports_stay_out_of_the_range_outgoing_connections_take() -> None:
    # an outgoing connection may take any ephemeral port between free_port() and the
    # server's bind; ports below that range are taken only by an explicit bind
    low = int(pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {controlplane.free_port() for _ in range(20)}
    assert all(port < low for port in ports)
    assert len(ports) > 1
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
