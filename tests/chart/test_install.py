"""The chart in a real kube-apiserver: install, enforce, upgrade, uninstall; and install.yaml.

Owns, through helm and kubectl against the real control plane (no kubelet,
so the chart's Pods are stored but never run; the test runs what they would
run on loopback, with the chart's own arguments, see ``installing``):

* ``helm install`` stores everything; the operator, logged in as the chart's
  ``bulkhead-operator`` ServiceAccount, writes the TLS Secret, injects the
  caBundle and marks the chart's policies Ready; ``bulkhead serve``, logged
  in as ``bulkhead-webhook``, watches those policies and, with the Secret's
  certificate, answers through the chart's Service (ExternalName to
  localhost) and the chart's registration;
* kubectl-applied Pods and Deployments are judged by the chart's policies
  (baseline Deny, restricted Warn), the exempt namespace is not judged, and
  the ``helm test`` script, run as the hook's ServiceAccount with its RBAC,
  passes; both processes log JSON lines of one shape and never the key;
* ``helm upgrade`` (restricted -> Deny) keeps the caBundle and keeps
  enforcing, now the stricter policy too;
* ``helm uninstall`` leaves no ValidatingWebhookConfiguration, an operator
  with full rights running on does not recreate one, and Pods are admitted
  with the webhook stopped;
* with ``certManager.enabled`` (cert-manager's kinds served by stand-in
  CRDs), the Certificate and the cainjector annotation are stored and the
  operator keeps policy status but writes no Secret and no caBundle;
* ``manifests/install.yaml`` applies cleanly to a fresh apiserver with the
  documented commands and deletes cleanly.

Every wait is bounded; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any, Final

import pytest

from devcluster import controlplane, installation, registration, webhookserver
from tests.chart import installing, rendering
from tests.e2e import kubectl, workloads

pytestmark = pytest.mark.cluster

NS: Final = installing.NAMESPACE
DENIED: Final = f'admission webhook "{installing.WEBHOOK}" denied the request'


def _wait(probe: Any, *, timeout: float, what: str) -> Any:
    return installation.wait_for(probe, timeout=timeout, interval=0.25, what=what)


def _restricted_only_violation() -> dict[str, Any]:
    """A Pod that meets baseline but not restricted (no runAsNonRoot, no seccomp, caps kept)."""
    return {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}]}


class Installed:
    """The release and the processes standing in for its Pods."""

    def __init__(self, cp: controlplane.ControlPlane, directory: pathlib.Path) -> None:
        self.cp = cp
        self.directory = directory
        self.port = controlplane.free_port()
        self.release = installing.Release(cp, directory)
        self.operator: installation.OperatorProcess | None = None
        self.webhook: webhookserver.WebhookServer | None = None

    def start_operator(self, docs: list[dict[str, Any]]) -> None:
        args = installing.replace_flags(
            installing.container_args(docs, "bulkhead-operator")[1:],
            {
                # set by OperatorProcess itself (loopback metrics and health ports)
                "namespace": None,
                "webhook-configuration": None,
                "metrics-port": None,
                "health-port": None,
                # the Service name does not resolve here; the webhook is on loopback
                "probe-endpoint": f"127.0.0.1:{self.port}",
                "check-interval": "1s",
            },
        )
        kubeconfig = installation.token_kubeconfig(
            self.cp, namespace=NS, service_account="bulkhead-operator", directory=self.directory
        )
        self.operator = installation.OperatorProcess(
            kubeconfig=kubeconfig,
            namespace=NS,
            webhook_configuration=installing.CONFIGURATION,
            log_path=self.directory / "operator.log",
            extra_args=args,
        ).start()

    def start_webhook(self, docs: list[dict[str, Any]]) -> None:
        data = _wait(
            lambda: installing.secret_data(self.cp, installing.TLS_SECRET),
            timeout=60,
            what="the operator's serving Secret",
        )
        installing.write_tls(data, self.directory / "tls")
        kubeconfig = installation.token_kubeconfig(
            self.cp, namespace=NS, service_account="bulkhead-webhook", directory=self.directory
        )
        self.webhook = installing.chart_webhook(
            chart_args=installing.container_args(docs, "bulkhead-webhook"),
            tls_dir=self.directory / "tls",
            kubeconfig=kubeconfig,
            port=self.port,
            log_path=self.directory / "webhook.log",
        )
        self.webhook.start()

    def stop(self) -> None:
        if self.webhook is not None:
            self.webhook.stop()
        if self.operator is not None:
            self.operator.stop(timeout=10)


@pytest.fixture
def installed(
    control_plane: controlplane.ControlPlane, tmp_path: pathlib.Path
) -> Iterator[Installed]:
    if NS not in control_plane.kubectl("get", "namespaces", "-o", "name").stdout:
        control_plane.create_namespace(NS)
    state = Installed(control_plane, tmp_path)
    try:
        yield state
    finally:
        state.stop()
        control_plane.helm("uninstall", installing.RELEASE, "--namespace", NS, check=False)


def _wait_chart_policies_ready(cp: controlplane.ControlPlane) -> None:
    """Until the operator has marked both of the chart's policies Ready."""
    for name in ("bulkhead-baseline", "bulkhead-restricted"):
        _wait(
            lambda name=name: (installation.ready_condition(
                installation.get_json(cp, installation.policy_path("ClusterContainerPolicy", name))
            ) or {}).get("status") == "True",
            timeout=60,
            what=f"{name} Ready (status written by the operator)",
        )  # fmt: skip


def _json_lines(path: pathlib.Path, *, secret: str) -> list[dict[str, Any]]:
    """Every line of a process's log, each one JSON object with the common keys."""
    text = path.read_text(encoding="utf-8")
    assert text.strip(), f"{path.name} is empty"
    body = "".join(secret.splitlines()[1:-1])
    assert "PRIVATE KEY" not in text, f"{path.name} leaks the key"
    assert body[:40] not in text, f"{path.name} leaks the key"
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            raise AssertionError(f"{path.name}:{number} is not JSON: {raw!r}") from None
        assert isinstance(line, dict), f"{path.name}:{number}: {raw!r}"
        assert {"time", "level", "logger", "msg"} <= line.keys(), f"{path.name}:{number}: {raw!r}"
        lines.append(line)
    return lines


def _apply_pod(
    cp: controlplane.ControlPlane, namespace: str, name: str, spec: dict[str, Any]
) -> Any:
    return kubectl.apply(cp, namespace, workloads.pod(name, spec))


def _run_helm_test_script(
    cp: controlplane.ControlPlane, values: dict[str, Any], directory: pathlib.Path
) -> str:
    """files/admission_test.py, as the hook Pod would run it, with the hook's RBAC and env."""
    docs = rendering.render(values, extra=("--show-only", "templates/tests/admission-test.yaml"))
    rbac = [d for d in docs if d["kind"] in ("ServiceAccount", "Role", "RoleBinding")]
    (pod,) = [d for d in docs if d["kind"] == "Pod"]
    cp.apply(*rbac)
    try:
        credentials = directory / "test-credentials"
        credentials.mkdir(exist_ok=True)
        token = cp.kubectl("create", "token", "bulkhead-test", "-n", NS, "--duration=10m")
        (credentials / "token").write_text(token.stdout.strip(), encoding="utf-8")
        (credentials / "ca.crt").write_bytes(cp.ca_cert_pem)
        env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
        env.update(
            BULKHEAD_TEST_API=cp.url,
            BULKHEAD_TEST_CREDENTIALS=str(credentials),
            BULKHEAD_TEST_TIMEOUT="30",
            PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        )
        result = subprocess.run(
            [sys.executable, str(rendering.CHART / "files" / "admission_test.py")],
            capture_output=True, text=True, check=False, timeout=90, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout
    finally:
        for doc in rbac:
            cp.kubectl(
                "delete", doc["kind"].lower(), doc["metadata"]["name"],
                "-n", doc["metadata"]["namespace"], "--ignore-not-found",
            )  # fmt: skip


def test_install_enforce_upgrade_uninstall(
    control_plane: controlplane.ControlPlane, installed: Installed, tmp_path: pathlib.Path
) -> None:
    cp = control_plane
    values = installing.loopback_values(installed.port)

    # -- install ---------------------------------------------------------------------
    result = installed.release.install(values)
    assert "STATUS: deployed" in result.stdout, result.stdout + result.stderr
    docs = installed.release.manifest()
    assert installing.ca_bundle(cp) is None, "the chart itself carries no caBundle"
    installed.start_operator(docs)
    ca = _wait(lambda: installing.ca_bundle(cp), timeout=60, what="caBundle injected")
    installed.start_webhook(docs)
    assert (installed.directory / "tls" / "ca.crt").read_bytes() in ca

    _wait_chart_policies_ready(cp)

    # Both processes log JSON lines of one shape, and no key material.
    key = (installed.directory / "tls" / "tls.key").read_bytes().decode()
    operator_lines = _json_lines(installed.directory / "operator.log", secret=key)
    webhook_lines = _json_lines(installed.directory / "webhook.log", secret=key)
    assert any(
        line["logger"] == "bulkhead.operator.policies"
        and "bulkhead-baseline is Ready" in line["msg"]
        for line in operator_lines
    ), operator_lines
    assert any(line["logger"].startswith("bulkhead.") for line in webhook_lines)

    with cp.namespace() as ns:
        registration.wait_for_refusal(cp, namespace=ns, expected=DENIED, timeout=60)
        refused = _apply_pod(cp, ns, "privileged", workloads.privileged_spec())
        assert refused.returncode != 0, kubectl.show(refused)
        assert DENIED in refused.stderr, kubectl.show(refused)
        assert "bulkhead-baseline" in refused.stderr
        assert not kubectl.stored(cp, ns, "pod", "privileged")

        warned = _apply_pod(cp, ns, "not-restricted", _restricted_only_violation())
        assert warned.returncode == 0, kubectl.show(warned)
        assert "Warning:" in warned.stderr, kubectl.show(warned)
        assert "bulkhead-restricted" in warned.stderr

        compliant = _apply_pod(cp, ns, "compliant", workloads.compliant_spec())
        assert compliant.returncode == 0, kubectl.show(compliant)
        assert "bulkhead-" not in compliant.stderr, kubectl.show(compliant)

        deployment = workloads.wrap("Deployment", "privileged-app", workloads.privileged_spec())
        refused = kubectl.apply(cp, ns, deployment)
        assert refused.returncode != 0, kubectl.show(refused)
        assert DENIED in refused.stderr, kubectl.show(refused)

    exempt = _apply_pod(cp, NS, "privileged-in-release-namespace", workloads.privileged_spec())
    assert exempt.returncode == 0, "the release namespace is never judged"
    cp.kubectl("delete", "pod", "privileged-in-release-namespace", "-n", NS, "--wait=false")

    output = _run_helm_test_script(cp, values, tmp_path)
    assert "expected: deny (bulkhead-baseline)" in output, output
    assert output.rstrip().endswith("PASS"), output

    # -- upgrade: restricted becomes Deny --------------------------------------------
    stricter = installing.loopback_values(installed.port, policies={"restricted": "Deny"})
    result = installed.release.upgrade(stricter)
    assert "STATUS: deployed" in result.stdout, result.stdout + result.stderr
    assert installing.ca_bundle(cp) == ca, "helm upgrade must leave the injected caBundle alone"
    with cp.namespace() as ns:
        registration.wait_for_refusal(
            cp, namespace=ns, expected="bulkhead-restricted",
            probe=workloads.pod("probe", _restricted_only_violation()), timeout=30,
        )  # fmt: skip
        refused = _apply_pod(cp, ns, "not-restricted", _restricted_only_violation())
        assert refused.returncode != 0, kubectl.show(refused)
        assert DENIED in refused.stderr, kubectl.show(refused)
        refused = _apply_pod(cp, ns, "privileged", workloads.privileged_spec())
        assert refused.returncode != 0, kubectl.show(refused)
        assert DENIED in refused.stderr, kubectl.show(refused)
        assert _apply_pod(cp, ns, "compliant", workloads.compliant_spec()).returncode == 0

    # -- uninstall -------------------------------------------------------------------
    result = installed.release.uninstall()
    assert result.returncode == 0, result.stderr
    assert installing.ca_bundle(cp) is None
    listed = json.loads(cp.kubectl("get", "validatingwebhookconfigurations", "-o", "json").stdout)
    assert listed["items"] == [], "no webhook configuration may outlive the release"

    # An operator with every right (admin), told about the configuration, runs on:
    # it patches what exists and never creates, so nothing comes back.
    installed.stop()
    admin = installation.OperatorProcess(
        kubeconfig=cp.kubeconfig, namespace=NS, webhook_configuration=installing.CONFIGURATION,
        log_path=tmp_path / "operator-after-uninstall.log",
        extra_args=["--check-interval=1s", f"--probe-endpoint=127.0.0.1:{installed.port}"],
    ).start()  # fmt: skip
    try:
        admin.reconciled_after(time.time())
        listed = json.loads(
            cp.kubectl("get", "validatingwebhookconfigurations", "-o", "json").stdout
        )
        assert listed["items"] == [], admin.log()
    finally:
        admin.stop(timeout=10)

    with cp.namespace() as ns:
        admitted = _apply_pod(cp, ns, "privileged", workloads.privileged_spec())
        assert admitted.returncode == 0, "with Bulkhead gone and stopped, Pods are admitted"
    assert "bulkhead-baseline" not in cp.kubectl("get", "clustercontainerpolicies").stdout
    crds = cp.kubectl("get", "crd", "-o", "name").stdout
    assert "clustercontainerpolicies.bulkhead.dev" in crds, "helm never deletes crds/"


def test_install_yaml_applies_to_a_fresh_cluster_and_deletes(tmp_path: pathlib.Path) -> None:
    install = str(rendering.REPO / "manifests" / "install.yaml")
    with controlplane.ControlPlane(log_dir=tmp_path / "logs") as cp:
        # docs/install.md: CRDs first, wait until they are served, then everything.
        cp.kubectl("apply", "--server-side", "-f", str(rendering.REPO / "manifests" / "crds"))
        cp.kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", "crd",
            "-l", "app.kubernetes.io/part-of=bulkhead",
        )  # fmt: skip
        applied = cp.kubectl("apply", "--server-side", "-f", install)
        assert "validatingwebhookconfiguration.admissionregistration.k8s.io/bulkhead" in (
            applied.stdout
        )
        for kind, name in (
            ("deployment", "bulkhead-webhook"),
            ("deployment", "bulkhead-operator"),
            ("poddisruptionbudget", "bulkhead-webhook"),
            ("service", "bulkhead"),
        ):
            cp.kubectl("get", kind, name, "-n", NS)
        cp.kubectl("get", "clustercontainerpolicy", "bulkhead-baseline", "bulkhead-restricted")
        labels = json.loads(cp.kubectl("get", "namespace", NS, "-o", "json").stdout)
        assert labels["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        # deleting leaves nothing that judges Pods
        cp.kubectl("delete", "-f", install, "--wait=false", "--ignore-not-found")
        listed = json.loads(
            cp.kubectl("get", "validatingwebhookconfigurations", "-o", "json").stdout
        )
        assert listed["items"] == []


def test_cert_manager_mode_leaves_certificates_to_cert_manager(
    control_plane: controlplane.ControlPlane, installed: Installed
) -> None:
    """certManager.enabled: the chart stores the Certificate; the operator only keeps status."""
    cp = control_plane
    # An earlier release's operator Secrets outlive it (on purpose): start without them.
    cp.kubectl("delete", "secret", "bulkhead-webhook-ca", installing.TLS_SECRET, "-n", NS,
               "--ignore-not-found")  # fmt: skip
    with installing.stand_in_crds(cp):
        values = installing.loopback_values(installed.port, certManager={"enabled": True})
        result = installed.release.install(values)
        assert "STATUS: deployed" in result.stdout, result.stdout + result.stderr
        docs = installed.release.manifest()
        cp.kubectl("get", "certificate", "bulkhead-webhook", "-n", NS)
        configuration = json.loads(
            cp.kubectl("get", "validatingwebhookconfiguration", "bulkhead", "-o", "json").stdout
        )
        assert configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
            f"{NS}/bulkhead-webhook"
        )
        installed.start_operator(docs)
        assert installed.operator is not None
        _wait_chart_policies_ready(cp)
        # The operator runs no TLS loop: its liveness report has no TLS probe, and
        # (policy status written, so it is well past start-up) it wrote no Secret and
        # no caBundle: those are cert-manager's.
        url = f"http://127.0.0.1:{installed.operator.health_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert "tls" not in json.loads(response.read()), "a TLS loop runs"
        assert installing.secret_data(cp, "bulkhead-webhook-ca") is None
        assert installing.secret_data(cp, installing.TLS_SECRET) is None
        assert installing.ca_bundle(cp) is None
        installed.stop()
        assert installed.release.uninstall().returncode == 0
