"""The image built here, run the way the chart runs it, under podman.

Owns: the image's promises checked on the image itself: numeric uid 65532
with no passwd entry, and both commands working that way with a read-only
root filesystem, no capabilities, no privilege escalation and the default
seccomp profile. ``serve`` answers /readyz and denies a privileged Pod;
``operator`` (which used to crash in kopf's ``getpass.getuser()`` for a uid
without a passwd entry) starts, stays up and patches the caBundle on the
loopback control plane, with the manifests' RBAC. ``--passwd=false``: podman
would otherwise add a passwd line for the user, which no kubelet does.

I/O: runs podman (root, the image build's own store), the loopback control
plane of ``tests/conftest.py``, HTTPS on 127.0.0.1; containers use the host's
network but listen on 127.0.0.1 only, and are removed afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import pathlib
import resource
import secrets
import ssl
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any, Final

import pytest

from devcluster import controlplane, installation, pki
from devcluster import node as node_

IMAGE_SCRIPT: Final = node_.TOOLS / "image" / "build.sh"
UID: Final = "65532"


def _podman_base() -> list[str]:
    cache = pathlib.Path(os.environ.get("BULKHEAD_CACHE", pathlib.Path.home() / ".cache/bulkhead"))
    return [
        "podman", "--root", str(cache / "image" / "storage"),
        "--runroot", "/run/bulkhead-image", "--runtime", "runc",
        "--cgroup-manager", "cgroupfs", "--events-backend", "file",
    ]  # fmt: skip


def podman(*args: str, check: bool = True, timeout: float = 120.0) -> str:
    result = subprocess.run(
        [*_podman_base(), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: {result.stderr}")
    return result.stdout


def logs(name: str) -> str:
    """A container's output, stdout and stderr together."""
    result = subprocess.run(
        [*_podman_base(), "logs", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout


@dataclasses.dataclass(frozen=True)
class Image:
    name: str
    archive: pathlib.Path


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The image from ``make image`` (built or reused), loaded into podman's store."""
    log = tmp_path_factory.mktemp("image") / "build.log"
    archive = pathlib.Path(controlplane.run_script(IMAGE_SCRIPT, log=log, timeout=3600)[-1])
    loaded = podman("load", "--input", str(archive))
    names = [
        line.split(":", 1)[1].strip() for line in loaded.splitlines() if "Loaded image" in line
    ]
    assert names, loaded
    return Image(name=names[-1], archive=archive)


def _limits() -> list[str]:
    """podman's default rlimits (1048576) exceed what root may set on some hosts
    (no CAP_SYS_RESOURCE): ask for no more than the host's hard limits."""
    _, hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    _, hard_nproc = resource.getrlimit(resource.RLIMIT_NPROC)
    nproc = 4096 if hard_nproc == resource.RLIM_INFINITY else min(4096, hard_nproc)
    return ["--ulimit", f"nofile={hard_nofile}:{hard_nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


def _hardened(name: str, image: Image, *args: str, volumes: Sequence[str] = ()) -> list[str]:
    """``podman run`` with the chart's securityContext, as a kubelet would run it."""
    return [
        "run", "--detach", "--name", name, "--network", "host",
        "--user", f"{UID}:{UID}", "--passwd=false",
        "--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,size=16m,mode=1777",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges", *_limits(),
        *(f"--volume={v}" for v in volumes), image.name, *args,
    ]  # fmt: skip


@contextlib.contextmanager
def _container(argv: Sequence[str]) -> Iterator[str]:
    name = argv[argv.index("--name") + 1]
    try:
        podman(*argv)
        yield name
    finally:
        podman("rm", "--force", "--time", "5", name, check=False)


def _status(name: str) -> dict[str, list[str]]:
    pid = podman("inspect", "--format", "{{.State.Pid}}", name).strip()
    text = pathlib.Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return {k: v.split() for k, v in (line.split(":", 1) for line in text.splitlines())}


@pytest.fixture
def shared_dir() -> Iterator[pathlib.Path]:
    """A directory uid 65532 can read (pytest's own tmp dirs are root-only)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="bulkhead-image-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", str(path)], check=False)


def _readable(path: pathlib.Path, data: bytes) -> pathlib.Path:
    path.write_bytes(data)
    path.chmod(0o644)
    return path


def test_the_image_has_no_passwd_entry_for_its_user(image: Image) -> None:
    config = json.loads(podman("image", "inspect", image.name))[0]["Config"]
    assert config["User"] == f"{UID}:{UID}"
    out = podman(
        "run", "--rm", "--network", "none", "--user", f"{UID}:{UID}", "--passwd=false", *_limits(),
        "--entrypoint", "python3", image.name, "-c",
        "import os, pwd\n"
        "try:\n    pwd.getpwuid(os.getuid()); print('entry')\n"
        "except KeyError:\n    print('none')",
    )  # fmt: skip
    assert out.strip() == "none"


def test_the_image_runs_the_pure_core_compiled(image: Image) -> None:
    """The decision and the checks load as mypyc's C extensions, the rule registry as Python."""
    out = podman(
        "run", "--rm", "--network", "none", "--user", f"{UID}:{UID}", "--passwd=false",
        "--read-only", *_limits(), "--entrypoint", "python3", image.name, "-P", "-c",
        "import importlib\n"
        "for name in ('webhook.admission.decide', 'webhook.profiles.levels',\n"
        "             'webhook.rules.capabilities', 'webhook.policy.judging',\n"
        "             'webhook.rules.registry'):\n"
        "    print(importlib.import_module(name).__file__.rsplit('.', 1)[1])",
    )  # fmt: skip
    assert out.split() == ["so", "so", "so", "so", "py"]


def test_serve_runs_hardened_and_denies(image: Image, shared_dir: pathlib.Path) -> None:
    ca = pki.CertificateAuthority.generate("bulkhead-image-test")
    serving = ca.issue(common_name="127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
    _readable(shared_dir / "tls.crt", serving.cert_pem)
    _readable(shared_dir / "tls.key", serving.key_pem)
    port = controlplane.free_port()
    argv = _hardened(
        f"bulkhead-serve-{secrets.token_hex(3)}", image,
        "serve", "--address=127.0.0.1", f"--port={port}", "--profile=baseline",
        "--tls-cert-file=/tls/tls.crt", "--tls-private-key-file=/tls/tls.key",
        volumes=[f"{shared_dir}:/tls:ro"],
    )  # fmt: skip
    context = ssl.create_default_context(cadata=ca.cert_pem.decode())
    with _container(argv) as name:

        def ready() -> bool:
            with contextlib.suppress(OSError):
                url = f"https://127.0.0.1:{port}/readyz"
                with urllib.request.urlopen(url, context=context, timeout=2) as response:
                    return bool(response.status == 200)
            return False

        installation.wait_for(ready, timeout=60, what=f"/readyz ({logs(name)})")
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "image-test",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "operation": "CREATE",
                "namespace": "default",
                "userInfo": {"username": "image-test"},
                "object": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "p"},
                    "spec": {
                        "containers": [
                            {"name": "c", "image": "x", "securityContext": {"privileged": True}}
                        ]
                    },
                },
            },
        }
        request = urllib.request.Request(
            f"https://127.0.0.1:{port}/validate",
            data=json.dumps(review).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
            verdict: dict[str, Any] = json.loads(response.read())["response"]
        assert verdict["allowed"] is False
        assert "spec.containers[0].securityContext.privileged" in verdict["status"]["message"]
        status = _status(name)
        assert status["Uid"] == [UID] * 4
        assert status["Gid"] == [UID] * 4
        assert all(int(status[c][0], 16) == 0 for c in ("CapEff", "CapPrm", "CapBnd"))
        assert status["NoNewPrivs"] == ["1"]
        assert status["Seccomp"] == ["2"]


def test_operator_runs_as_a_uid_without_passwd_entry(
    image: Image,
    control_plane: controlplane.ControlPlane,
    namespace: str,
    shared_dir: pathlib.Path,
    tmp_path: pathlib.Path,
) -> None:
    installation.install_crds(control_plane)
    install = installation.Install(control_plane, namespace=namespace, directory=tmp_path)
    control_plane.apply(
        installation.webhook_configuration(install.webhook_configuration, namespace=namespace)
    )
    try:
        token_config = json.loads(install.operator_kubeconfig.read_text(encoding="utf-8"))
        cluster = token_config["clusters"][0]["cluster"]
        cluster["certificate-authority-data"] = base64.b64encode(
            pathlib.Path(cluster.pop("certificate-authority")).read_bytes()
        ).decode()
        _readable(shared_dir / "kubeconfig", json.dumps(token_config).encode())
        health = controlplane.free_port()
        argv = _hardened(
            f"bulkhead-operator-{secrets.token_hex(3)}", image,
            "operator", "--kubeconfig=/config/kubeconfig", f"--namespace={namespace}",
            f"--webhook-configuration={install.webhook_configuration}",
            "--metrics-address=127.0.0.1", f"--metrics-port={controlplane.free_port()}",
            f"--health-port={health}",
            "--probe-endpoint=none",
            volumes=[f"{shared_dir}:/config:ro"],
        )  # fmt: skip
        with _container(argv) as name:

            def patched() -> bool:
                state = podman("inspect", "--format", "{{.State.Status}}", name).strip()
                assert state == "running", f"operator {state}:\n{logs(name)}"
                document = installation.get_json(
                    control_plane,
                    f"{installation.WEBHOOKS_PATH}/{install.webhook_configuration}",
                )
                return bool(document) and all(
                    w["clientConfig"].get("caBundle") for w in (document or {})["webhooks"]
                )

            installation.wait_for(patched, timeout=90, what="the operator to patch caBundle")
            with urllib.request.urlopen(f"http://127.0.0.1:{health}/healthz", timeout=5) as r:
                assert r.status == 200
            output = logs(name)
            assert "KeyError" not in output
            assert "getpwuid" not in output
    finally:
        control_plane.kubectl(
            "delete", "validatingwebhookconfiguration", install.webhook_configuration,
            "--ignore-not-found",
        )  # fmt: skip
        install.remove()
