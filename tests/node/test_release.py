"""Bulkhead as a user runs it: ``helm install`` of the chart on a real node, the image by digest.

Owns: what a user of the chart sees on a real cluster: the Pods become Ready
(the operator as uid 65532 with no passwd entry), the operator writes the TLS
Secret and the caBundle, ``helm test`` passes; the webhook Pods deny and
admit through the apiserver (Pods, a Deployment, ``kubectl debug``); policies
applied with kubectl are enforced within 2 s with their status; the running
Pods are really hardened (``/proc/1/status`` in the container); a steady
stream of reviews sees 0 failures through a rolling upgrade and Pod
deletions; with no webhook Pod, judged namespaces fail closed while
kube-system and the release namespace stay usable; ``make demo-node``'s steps
(``devcluster.nodedemo``) all as expected; ``helm uninstall`` leaves only
what docs/install.md says it leaves.

The tests run in file order on one installation; the last one uninstalls it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import pathlib
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any, Final

import pytest

from devcluster import controlplane, demo, installation, nodedemo
from devcluster import node as node_
from tests.node import conftest, load
from webhook.operator import pki

DENIED: Final = 'admission webhook "validate.bulkhead.dev" denied the request'
EXAMPLES: Final = node_.REPO / "manifests" / "examples"
#: Reviews per second the stream must sustain (and does, measured in its summary).
MIN_RATE: Final = 20.0


def _pods(release: conftest.Release, component: str) -> list[dict[str, Any]]:
    listing = release.node.kubectl_json(
        "get", "pods", "-n", release.namespace,
        "-l", f"app.kubernetes.io/component={component}",
    )  # fmt: skip
    items: list[dict[str, Any]] = listing["items"]
    return items


def _ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _wait_ready(release: conftest.Release, component: str, count: int) -> list[dict[str, Any]]:
    def ready() -> list[dict[str, Any]] | None:
        pods = _pods(release, component)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        good = [p for p in live if _ready(p)]
        return good if len(good) == count == len(live) else None

    found: list[dict[str, Any]] = installation.wait_for(
        ready, timeout=180, interval=0.5, what=f"{count} Ready {component} Pod(s)"
    )
    return found


def _dry_run_pod(
    release: conftest.Release, namespace: str, *, privileged: bool, check: bool = False
) -> Any:
    manifest = load.pod(f"probe-{time.monotonic_ns()}", image=release.image, privileged=privileged)
    return release.node.kubectl(
        "create", "--dry-run=server", "-n", namespace, "-f", "-",
        input_text=json.dumps(manifest), check=check,
    )  # fmt: skip


def _exec_python(release: conftest.Release, pod: str, code: str) -> str:
    result = release.node.kubectl("exec", "-n", release.namespace, pod, "--", "python3", "-c", code)
    return result.stdout


# -- installed ---------------------------------------------------------------


def test_pods_become_ready_and_the_operator_writes_tls(release: conftest.Release) -> None:
    webhooks = _wait_ready(release, "webhook", 2)
    (operator,) = _wait_ready(release, "operator", 1)
    # The operator runs as the image's uid with no passwd entry and no login
    # variables: it used to crash-loop there (kopf asked getpass for a user name).
    env = {e["name"] for c in operator["spec"]["containers"] for e in c.get("env", [])}
    assert not env & {"USER", "LOGNAME", "LNAME", "USERNAME"}
    assert [s["restartCount"] for s in operator["status"]["containerStatuses"]] == [0]
    assert all(s["restartCount"] == 0 for p in webhooks for s in p["status"]["containerStatuses"])
    digest = release.image.rsplit("@", 1)[1]
    for pod in [*webhooks, operator]:
        (status,) = pod["status"]["containerStatuses"]
        assert status["imageID"].endswith(digest), status
    tls = release.node.kubectl_json(
        "get", "secret", "-n", release.namespace, "bulkhead-webhook-tls"
    )
    assert tls["type"] == "kubernetes.io/tls"
    assert set(tls["data"]) >= {"tls.crt", "tls.key"}
    configuration = release.node.kubectl_json("get", "validatingwebhookconfiguration", "bulkhead")
    bundles = {w["clientConfig"].get("caBundle", "") for w in configuration["webhooks"]}
    ca = release.node.kubectl_json("get", "secret", "-n", release.namespace, "bulkhead-webhook-ca")
    assert bundles == {ca["data"]["ca.crt"]}, "caBundle is the operator's CA"


def test_helm_test_passes(release: conftest.Release) -> None:
    result = release.node.helm(
        "test", conftest.RELEASE, "--namespace", release.namespace, "--logs", "--timeout", "3m",
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Phase:          Succeeded" in result.stdout or "Succeeded" in result.stdout


# -- judged through the apiserver ----------------------------------------------


def test_a_privileged_pod_is_denied_by_the_webhook_pods(release: conftest.Release) -> None:
    result = _dry_run_pod(release, release.judged, privileged=True)
    assert result.returncode != 0, result.stdout
    assert DENIED in result.stderr
    assert "bulkhead-baseline" in result.stderr
    assert "[pss/privileged] spec.containers[0].securityContext.privileged:" in result.stderr


@pytest.fixture(scope="module")
def running_pod(release: conftest.Release) -> Iterator[str]:
    """A restricted-compliant Pod in the judged namespace, Running; deleted afterwards."""
    manifest = load.pod("compliant", image=release.image, privileged=False)
    (container,) = manifest["spec"]["containers"]
    # Resolves a Service name through the cluster DNS, then stays up.
    container["command"] = [
        "python3", "-c",
        "import socket, time; "
        "print(socket.gethostbyname('bulkhead.bulkhead-system.svc'), flush=True); "
        "time.sleep(3600)",
    ]  # fmt: skip
    release.node.kubectl("apply", "-n", release.judged, "-f", "-", input_text=json.dumps(manifest))
    release.node.kubectl(
        "wait", "-n", release.judged, "--for=condition=Ready", "pod/compliant", "--timeout=120s"
    )
    try:
        yield "compliant"
    finally:
        release.node.kubectl(
            "delete", "-n", release.judged, "pod/compliant", "--wait=false", "--ignore-not-found"
        )


def test_a_compliant_pod_runs_and_resolves_cluster_names(
    release: conftest.Release, running_pod: str
) -> None:
    service = release.node.kubectl_json("get", "service", "-n", release.namespace, "bulkhead")

    def first_lines() -> str:
        return release.node.kubectl("logs", "-n", release.judged, running_pod).stdout.strip()

    logs = installation.wait_for(
        first_lines, timeout=30, interval=0.5, what="the Pod's first log line"
    )
    assert logs.splitlines()[0] == service["spec"]["clusterIP"]


def test_a_violating_deployment_is_refused(release: conftest.Release) -> None:
    result = release.node.kubectl(
        "apply", "-n", release.judged, "-f", str(EXAMPLES / "bad" / "leaky-deployment.yaml"),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert DENIED in result.stderr
    assert "spec.template.spec.containers[0].securityContext.capabilities.add" in result.stderr
    assert "hunter2" not in result.stderr
    listed = release.node.kubectl("get", "deployments", "-n", release.judged, "-o", "name")
    assert "legacy-api" not in listed.stdout


def test_kubectl_debug_with_the_sysadmin_profile_is_refused(
    release: conftest.Release, running_pod: str
) -> None:
    result = release.node.kubectl(
        "debug", "-n", release.judged, f"pod/{running_pod}", "--profile=sysadmin",
        f"--image={release.image}", "--container=debugger", "--", "sleep", "60",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert DENIED in result.stderr
    assert "spec.ephemeralContainers[0].securityContext.privileged" in result.stderr
    pod = release.node.kubectl_json("get", "pod", "-n", release.judged, running_pod)
    assert not pod["spec"].get("ephemeralContainers")


def test_a_policy_applied_with_kubectl_is_enforced_within_2s_and_shows_status(
    release: conftest.Release,
) -> None:
    assert _dry_run_pod(release, release.judged, privileged=False).returncode == 0
    writable = load.pod("writable", image=release.image, privileged=False)
    writable["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    policy = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ContainerPolicy",
        "metadata": {"name": "read-only-root", "namespace": release.judged},
        "spec": {"action": "Deny", "rules": {"readOnlyRootFilesystem": True}},
    }

    def create_writable() -> Any:
        return release.node.kubectl(
            "create", "--dry-run=server", "-n", release.judged, "-f", "-",
            input_text=json.dumps(writable), check=False,
        )  # fmt: skip

    assert create_writable().returncode == 0
    release.node.kubectl("apply", "-f", "-", input_text=json.dumps(policy))
    applied = time.monotonic()
    try:
        refused = installation.wait_for(
            lambda: (r := create_writable()).returncode != 0 and r,
            timeout=10,
            interval=0.1,
            what="the new policy to refuse a writable root filesystem",
        )
        took = time.monotonic() - applied
        assert took <= 2.0, f"enforced after {took:.1f}s"
        assert DENIED in refused.stderr
        assert "read-only-root" in refused.stderr
        assert "spec.containers[0].securityContext.readOnlyRootFilesystem" in refused.stderr

        def ready() -> dict[str, Any] | None:
            document = release.node.kubectl_json(
                "get", "containerpolicy", "-n", release.judged, "read-only-root"
            )
            conditions = document.get("status", {}).get("conditions", [])
            return next(
                (c for c in conditions if c["type"] == "Ready" and c["status"] == "True"), None
            )

        assert installation.wait_for(
            ready, timeout=30, interval=0.5, what="the policy's Ready status"
        )
    finally:
        release.node.kubectl(
            "delete", "containerpolicy", "-n", release.judged, "read-only-root",
            "--ignore-not-found",
        )  # fmt: skip


# -- hardening where it runs ---------------------------------------------------

_STATUS_CODE: Final = (
    "import errno\n"
    "print(open('/proc/1/status').read())\n"
    "try:\n"
    "    open('/written-by-bulkhead', 'w')\n"
    "except OSError as err:\n"
    "    print('write:', errno.errorcode[err.errno])\n"
)


def test_running_pods_are_hardened(release: conftest.Release) -> None:
    pods = _pods(release, "webhook") + _pods(release, "operator")
    assert len(pods) == 3
    for pod in pods:
        out = _exec_python(release, pod["metadata"]["name"], _STATUS_CODE)
        fields = dict(
            line.split(":", 1) for line in out.splitlines() if ":" in line and "\t" in line
        )
        fields = {k: v.split() for k, v in fields.items()}
        assert fields["Uid"] == ["65532"] * 4, pod["metadata"]["name"]
        assert fields["Gid"] == ["65532"] * 4
        for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(fields[caps][0], 16) == 0, (caps, fields[caps])
        assert fields["NoNewPrivs"] == ["1"]
        assert fields["Seccomp"] == ["2"], "a seccomp filter (RuntimeDefault) is on"
        assert "write: EROFS" in out, "the root filesystem is read-only"


# -- a steady stream of reviews through disruptions -----------------------------


@contextlib.contextmanager
def _review_stream(
    release: conftest.Release, directory: pathlib.Path, summary: dict[str, Any]
) -> Iterator[None]:
    """Dry-run creates at 25/s from inside the node while the block runs; fills ``summary``."""
    out = directory / "load.json"
    argv = [
        sys.executable, "-m", "tests.node.load",
        f"--kubeconfig={release.node.kubeconfig}", f"--namespace={release.judged}",
        f"--image={release.image}", "--rate=25", f"--out={out}",
    ]  # fmt: skip
    proc = controlplane.spawn(
        release.node.netns_argv(argv), log_path=directory / "load.log", cwd=node_.REPO
    )
    try:
        installation.wait_for(
            lambda: out.with_suffix(".started").exists() or proc.poll() is not None,
            timeout=30,
            what="the review stream",
        )
        time.sleep(3)  # a few seconds of steady state first
        yield
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    if not out.exists():
        raise AssertionError(f"no summary: {controlplane.log_tail(directory / 'load.log')}")
    summary.update(json.loads(out.read_text(encoding="utf-8")))
    sys.stderr.write(f"\nreview stream: {json.dumps(summary)}\n")


def _assert_no_failed_reviews(summary: dict[str, Any]) -> None:
    assert summary["failed"] == 0, summary["failures"]
    assert summary["admitted"] > 0
    assert summary["refused"] > 0
    assert summary["per_second"] >= MIN_RATE, summary


def test_a_rolling_upgrade_fails_no_review(
    release: conftest.Release, tmp_path: pathlib.Path
) -> None:
    before = {p["metadata"]["name"] for p in _pods(release, "webhook")}
    summary: dict[str, Any] = {}
    with _review_stream(release, tmp_path, summary):
        release.upgrade("--set", "webhook.logLevel=debug")
        after = _wait_ready(release, "webhook", 2)
    assert not before & {p["metadata"]["name"] for p in after}, "every webhook Pod was replaced"
    _assert_no_failed_reviews(summary)


def test_deleting_a_webhook_pod_fails_no_review(
    release: conftest.Release, tmp_path: pathlib.Path
) -> None:
    victim = _wait_ready(release, "webhook", 2)[0]["metadata"]["name"]
    summary: dict[str, Any] = {}
    with _review_stream(release, tmp_path, summary):
        release.node.kubectl("delete", "pod", "-n", release.namespace, victim, "--wait=true")
        _wait_ready(release, "webhook", 2)
    _assert_no_failed_reviews(summary)


def test_deleting_the_operator_pod_fails_no_review(
    release: conftest.Release, tmp_path: pathlib.Path
) -> None:
    (victim,) = _wait_ready(release, "operator", 1)
    summary: dict[str, Any] = {}
    with _review_stream(release, tmp_path, summary):
        release.node.kubectl(
            "delete", "pod", "-n", release.namespace, victim["metadata"]["name"], "--wait=true"
        )
        (replacement,) = _wait_ready(release, "operator", 1)
    assert replacement["metadata"]["name"] != victim["metadata"]["name"]
    _assert_no_failed_reviews(summary)


def _bundle(release: conftest.Release) -> frozenset[str]:
    """The CA certificates in the webhook configuration's caBundle (PEM blocks)."""
    configuration = release.node.kubectl_json("get", "validatingwebhookconfiguration", "bulkhead")
    (encoded,) = {w["clientConfig"]["caBundle"] for w in configuration["webhooks"]}
    text = base64.b64decode(encoded).decode()
    marker = "-----END CERTIFICATE-----"
    return frozenset(block.strip() + "\n" + marker for block in text.split(marker)[:-1])


def _retirements(release: conftest.Release) -> list[str]:
    """The operator's Events saying which CA it retired (once no replica served a certificate)."""
    events = release.node.kubectl_json(
        "get", "events", "-n", release.namespace, "--field-selector=reason=CertificateRotation"
    )
    return [e["message"] for e in events["items"] if e["message"].startswith("retired the CA ")]


def test_a_ca_rotation_fails_no_review(release: conftest.Release, tmp_path: pathlib.Path) -> None:
    """With 3-minute CAs: a new CA joins the bundle, certificates move, the old CA leaves.

    The old CA leaves once the operator has seen every webhook Pod serve a
    certificate of the new one (it probes each endpoint of the Service), not
    merely when it expires: the operator says so in an Event.
    """
    first = _bundle(release)
    summary: dict[str, Any] = {}
    with _review_stream(release, tmp_path, summary):
        joined = installation.wait_for(
            lambda: (now := _bundle(release)) - first and now,
            timeout=240,
            interval=1,
            what="a new CA in the caBundle",
        )
        started = time.monotonic()
        installation.wait_for(
            lambda: not (_bundle(release) & first),
            timeout=240,
            interval=1,
            what=f"the CAs of {len(first)} to leave the bundle (joined: {len(joined)})",
        )
        sys.stderr.write(
            f"\nthe old CA left {time.monotonic() - started:.0f} s after the new joined\n"
        )
    _assert_no_failed_reviews(summary)
    subjects = {ca.subject for ca in pki.split_bundle("".join(first).encode())}
    retired = _retirements(release)
    for subject in subjects:
        assert any(message.startswith(f"retired the CA {subject}:") for message in retired), retired


# -- no webhook Pod at all -------------------------------------------------------


def test_with_no_webhook_pod_judged_namespaces_fail_closed(release: conftest.Release) -> None:
    release.node.kubectl("scale", "deployment", "-n", release.namespace, "bulkhead-webhook",
                         "--replicas=0")  # fmt: skip
    try:
        installation.wait_for(
            lambda: not _pods(release, "webhook"), timeout=120, what="no webhook Pod"
        )
        closed = _dry_run_pod(release, release.judged, privileged=False)
        assert closed.returncode != 0, "a judged namespace must fail closed"
        assert 'failed calling webhook "validate.bulkhead.dev"' in closed.stderr
        for namespace in ("kube-system", release.namespace):
            usable = _dry_run_pod(release, namespace, privileged=False)
            assert usable.returncode == 0, (namespace, usable.stderr)
    finally:
        release.node.kubectl("scale", "deployment", "-n", release.namespace, "bulkhead-webhook",
                             "--replicas=2")  # fmt: skip
    _wait_ready(release, "webhook", 2)
    assert _dry_run_pod(release, release.judged, privileged=False).returncode == 0


# -- make demo-node: the demo's steps on this installation ------------------------


def test_the_demo_runs_on_the_release(
    release: conftest.Release, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``make demo-node`` shows, after its node and ``helm install``: all as expected."""
    node = release.node
    try:
        ok = nodedemo.show(node)
    finally:
        policies = EXAMPLES / "policies"
        node.kubectl("delete", "-f", str(policies), "--ignore-not-found", "--wait=false")
        node.kubectl("delete", "namespace", demo.NAMESPACE, "--wait=false")
        node.kubectl("scale", "deployment", "-n", release.namespace, "bulkhead-webhook",
                     "--replicas=2")  # fmt: skip
    out = capsys.readouterr().out
    assert ok, out
    assert "UNEXPECTED" not in out
    for verdict in ("ADMITTED  manifests/examples/good/web-deployment.yaml",
                    "DENIED    manifests/examples/bad/privileged-pod.yaml"):  # fmt: skip
        assert verdict in out, out
    assert 'failed calling webhook "validate.bulkhead.dev"' in out
    assert "admitted again" in out
    assert "s after kubectl apply returned" in out
    _wait_ready(release, "webhook", 2)


# -- uninstall (last) ----------------------------------------------------------


def test_helm_uninstall_leaves_only_what_the_docs_say(release: conftest.Release) -> None:
    node = release.node
    node.helm("uninstall", conftest.RELEASE, "--namespace", release.namespace, "--wait")
    configurations = node.kubectl("get", "validatingwebhookconfigurations", "-o", "name").stdout
    assert "bulkhead" not in configurations
    labelled = "app.kubernetes.io/name=bulkhead"
    for kind in ("clusterroles", "clusterrolebindings", "clustercontainerpolicies"):
        assert node.kubectl("get", kind, "-l", labelled, "-o", "name").stdout.strip() == "", kind
    # The webhook Pods finish their graceful shutdown (preStop sleep, draining) first.
    installation.wait_for(
        lambda: not node.kubectl("get", "pods", "-n", release.namespace, "-o", "name").stdout,
        timeout=120,
        what="the release's Pods to finish terminating",
    )
    left = set(
        node.kubectl(
            "get", "all,configmaps,secrets,serviceaccounts,roles,rolebindings,"
            "networkpolicies,poddisruptionbudgets",
            "-n", release.namespace, "-o", "name",
        ).stdout.split()
    )  # fmt: skip
    # docs/install.md: the operator's Secrets stay (Helm does not own them),
    # besides what every namespace has.
    assert left == {
        "secret/bulkhead-webhook-tls",
        "secret/bulkhead-webhook-ca",
        "serviceaccount/default",
        "configmap/kube-root-ca.crt",
    }
    crds = node.kubectl("get", "crds", "-o", "name").stdout.split()
    assert (
        "customresourcedefinition.apiextensions.k8s.io/clustercontainerpolicies.bulkhead.dev"
        in crds
    )
    # Nothing judges any more: even a privileged Pod is admitted (dry run).
    assert _dry_run_pod(release, release.judged, privileged=True).returncode == 0
