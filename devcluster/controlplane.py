"""A real Kubernetes control plane (etcd + kube-apiserver) on loopback for tests.

Owns: the lifecycle of one etcd and one kube-apiserver process started for
tests, their PKI, flags, logs, readiness and kubeconfig, and running the real
``kubectl`` and ``helm`` against them; and, for every harness, starting a
test process in its own session (``spawn``) and stopping it (``stop_group``).
There is no kubelet, scheduler or controller-manager: objects are stored and
admitted, never run.

I/O: runs ``tools/controlplane/build.sh`` and ``tools/kubetools.sh`` (both
cached outside the repository), starts and stops processes, writes files in
its own temporary directories and talks HTTPS to the apiserver on 127.0.0.1.
It only ever signals the process groups it created itself.

Typical use::

    with ControlPlane() as cp:
        ns = cp.create_namespace()
        cp.kubectl("get", "configmaps", "-n", ns)
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import http.client
import json
import os
import pathlib
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import types
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Self

from devcluster import pki

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO_ROOT / "tools" / "controlplane" / "build.sh"
KUBETOOLS_SCRIPT = REPO_ROOT / "tools" / "kubetools.sh"

#: What the apiserver is built from (tools/controlplane/go.mod pins it).
KUBERNETES_VERSION = "v1.35.4"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
_LOG_TAIL_LINES = 40
_PR_SET_PDEATHSIG = 1


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or used."""


class CommandError(ControlPlaneError):
    """kubectl or helm exited non-zero; the message carries its output."""

    def __init__(self, argv: Sequence[str], result: subprocess.CompletedProcess[str]) -> None:
        self.argv = tuple(argv)
        self.returncode = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        super().__init__(
            f"{' '.join(argv)} exited {result.returncode}\n"
            f"--- stderr ---\n{result.stderr}--- stdout ---\n{result.stdout}"
        )


#: Where ``free_port`` looks when the kernel's ephemeral range cannot be read.
_EPHEMERAL_LOW: Final = 32768
_PORTS_FROM: Final = 10000
_PORT_TRIES: Final = 200


def _ephemeral_low() -> int:
    """The first port the kernel hands to outgoing connections (and to ``bind`` to port 0)."""
    try:
        low = pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
        return int(low)
    except (OSError, ValueError, IndexError):
        return _EPHEMERAL_LOW


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now, below the kernel's ephemeral range.

    A port from the ephemeral range may be taken by any outgoing connection
    (to the apiserver, to etcd) between this call and the server's own bind;
    a port below it is only ever taken by an explicit bind.
    """
    ports = list(range(_PORTS_FROM, max(_PORTS_FROM + 1, _ephemeral_low())))
    for port in random.sample(ports, min(_PORT_TRIES, len(ports))):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {_ephemeral_low()} after {_PORT_TRIES} tries")


def log_tail(path: pathlib.Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def run_script(
    script: pathlib.Path, *, log: pathlib.Path, timeout: float, prints: bool = True
) -> list[str]:
    """Run a build or install script; the lines it printed (paths), stderr to ``log``.

    ``prints``: the script must print at least one line (the cache scripts
    print their bin directory or archive last).
    """
    with log.open("a", encoding="utf-8") as stderr:
        result = subprocess.run(
            ["bash", str(script)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
            check=False,
        )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or (prints and not lines):
        raise ControlPlaneError(
            f"{script} exited {result.returncode}; log tail ({log}):\n{log_tail(log)}"
        )
    return lines


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the test process dies.

    Linux delivers it when the forking thread exits, so start control planes
    from the main thread (pytest fixtures do).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def webhook_client_admission_config(
    *, cert_file: pathlib.Path, key_file: pathlib.Path, kubeconfig_file: pathlib.Path
) -> dict[str, Any]:
    """An AdmissionConfiguration that makes the apiserver present a client cert.

    Writes ``kubeconfig_file`` (one user named ``*``, so it applies to every
    webhook host) and returns the AdmissionConfiguration to pass as
    ``ControlPlane(admission_config=...)``. The webhook can then require a
    client certificate signed by the CA that issued ``cert_file``.
    """
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "users": [
            {
                "name": "*",
                "user": {"client-certificate": str(cert_file), "client-key": str(key_file)},
            }
        ],
    }
    kubeconfig_file.write_text(json.dumps(kubeconfig, indent=2), encoding="utf-8")
    webhook_config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "WebhookAdmissionConfiguration",
        "kubeConfigFile": str(kubeconfig_file),
    }
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [
            {"name": "ValidatingAdmissionWebhook", "configuration": webhook_config},
            {"name": "MutatingAdmissionWebhook", "configuration": webhook_config},
        ],
    }


class Started(abc.ABC):
    """Something started by ``start()`` and stopped by ``stop()``; ``with`` does both."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()


class ControlPlane(Started):
    """etcd + kube-apiserver on random loopback ports, as a context manager.

    Attributes valid after :meth:`start`: ``url``, ``kubeconfig``,
    ``ca_cert_pem``/``ca_cert_path``, ``admin_cert_path``/``admin_key_path``,
    ``bin_dir`` (apiserver, etcd) and ``kubetools_dir`` (kubectl, helm).
    """

    def __init__(
        self,
        *,
        admission_config: Mapping[str, Any] | None = None,
        log_dir: pathlib.Path | None = None,
        extra_apiserver_args: Sequence[str] = (),
        startup_timeout: float = 90.0,
        build_timeout: float = 3600.0,
    ) -> None:
        self._admission_config = admission_config
        self._extra_apiserver_args = tuple(extra_apiserver_args)
        self._startup_timeout = startup_timeout
        self._build_timeout = build_timeout
        self._given_log_dir = log_dir
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._temp_dirs: list[pathlib.Path] = []
        self._ca: pki.CertificateAuthority | None = None
        self._workdir: pathlib.Path | None = None
        self.log_dir = pathlib.Path()
        self.bin_dir = pathlib.Path()
        self.kubetools_dir = pathlib.Path()
        self.url = ""
        self.kubeconfig = pathlib.Path()
        self.ca_cert_pem = b""
        self.ca_cert_path = pathlib.Path()
        self.admin_cert_path = pathlib.Path()
        self.admin_key_path = pathlib.Path()

    # -- lifecycle ---------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while every process this control plane started is alive."""
        return bool(self._processes) and all(p.poll() is None for p in self._processes.values())

    @property
    def pids(self) -> dict[str, int]:
        """Process ids (also the process-group ids) of etcd and kube-apiserver."""
        return {name: proc.pid for name, proc in self._processes.items()}

    @property
    def temp_dirs(self) -> tuple[pathlib.Path, ...]:
        """The temporary directories this control plane made (removed on stop)."""
        return tuple(self._temp_dirs)

    def start(self) -> None:
        """Build or reuse binaries, then start etcd and kube-apiserver and wait."""
        if self._processes:
            raise ControlPlaneError("control plane already started")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the processes this object started and remove its temp dirs."""
        for name in ("kube-apiserver", "etcd"):
            proc = self._processes.pop(name, None)
            if proc is not None:
                stop_group(proc)
        while self._temp_dirs:
            shutil.rmtree(self._temp_dirs.pop(), ignore_errors=True)

    def _mkdtemp(self, *, under: str | None = None) -> pathlib.Path:
        path = pathlib.Path(tempfile.mkdtemp(prefix="bulkhead-cp-", dir=under))
        self._temp_dirs.append(path)
        return path

    def _start(self) -> None:
        workdir = self._mkdtemp()
        self._workdir = workdir
        if self._given_log_dir is not None:
            self.log_dir = self._given_log_dir
            self.log_dir.mkdir(parents=True, exist_ok=True)
        else:
            self.log_dir = workdir / "logs"
            self.log_dir.mkdir()
        built = run_script(
            BUILD_SCRIPT, log=self.log_dir / "build.log", timeout=self._build_timeout
        )
        self.bin_dir = pathlib.Path(built[-1])
        tools = run_script(
            KUBETOOLS_SCRIPT, log=self.log_dir / "kubetools.log", timeout=self._build_timeout
        )
        self.kubetools_dir = pathlib.Path(tools[-1])
        self._write_pki(workdir / "pki")
        etcd_url = self._start_etcd()
        self._start_apiserver(workdir, etcd_url=etcd_url)
        self._ensure_default_service_account("default")

    def _write_pki(self, pki_dir: pathlib.Path) -> None:
        pki_dir.mkdir(mode=0o700)
        ca = pki.CertificateAuthority.generate("bulkhead-test-cluster-ca")
        self._ca = ca
        self.ca_cert_pem = ca.cert_pem
        self.ca_cert_path, _ = ca.credential.write(pki_dir, "ca")
        ca.issue(
            common_name="kube-apiserver",
            dns_names=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
            ip_addresses=("127.0.0.1", "10.0.0.1"),
            server=True,
        ).write(pki_dir, "apiserver")
        self.admin_cert_path, self.admin_key_path = ca.issue(
            common_name="bulkhead-test-admin", organizations=("system:masters",), client=True
        ).write(pki_dir, "admin")
        pki.service_account_key_pair().write(pki_dir, "service-account")

    def _spawn(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        proc = spawn(argv, log_path=self.log_dir / f"{name}.log")
        self._processes[name] = proc
        return proc

    def _start_etcd(self) -> str:
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        data_dir = self._mkdtemp(under=shm)
        client_url = f"http://127.0.0.1:{free_port()}"
        peer_url = f"http://127.0.0.1:{free_port()}"
        proc = self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=bulkhead-test",
                f"--data-dir={data_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=bulkhead-test={peer_url}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def healthy() -> bool:
            with opener.open(f"{client_url}/health", timeout=2) as response:
                body: dict[str, Any] = json.loads(response.read())
            return body.get("health") == "true"

        self._wait("etcd", proc, healthy)
        return client_url

    def _start_apiserver(self, workdir: pathlib.Path, *, etcd_url: str) -> None:
        pki_dir = workdir / "pki"
        port = free_port()
        args = [
            str(self.bin_dir / "kube-apiserver"),
            "--advertise-address=127.0.0.1",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki_dir / 'apiserver.crt'}",
            f"--tls-private-key-file={pki_dir / 'apiserver.key'}",
            f"--client-ca-file={self.ca_cert_path}",
            f"--etcd-servers={etcd_url}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki_dir / 'service-account.crt'}",
            f"--service-account-signing-key-file={pki_dir / 'service-account.key'}",
            "--authorization-mode=Node,RBAC",
            # The "kubernetes" Service's endpoints may not be loopback; nothing
            # here routes to it, so skip that reconciler and its error loop.
            "--endpoint-reconciler-type=none",
            # Tests must be able to submit privileged pods for the webhook to judge.
            "--allow-privileged=true",
            "--profiling=false",
        ]
        if self._admission_config is not None:
            config_path = workdir / "admission-config.json"
            config_path.write_text(json.dumps(self._admission_config, indent=2), encoding="utf-8")
            args.append(f"--admission-control-config-file={config_path}")
        args.extend(self._extra_apiserver_args)
        proc = self._spawn("kube-apiserver", args)
        self.url = f"https://127.0.0.1:{port}"

        def ready() -> bool:
            status, body = self.request("GET", "/readyz", timeout=5)
            return status == 200 and body.strip() == b"ok"

        self._wait("kube-apiserver", proc, ready)
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.touch(mode=0o600)
        self.kubeconfig.write_text(
            json.dumps(
                self.kubeconfig_document(
                    user="bulkhead-test-admin",
                    cert_path=self.admin_cert_path,
                    key_path=self.admin_key_path,
                ),
                indent=2,
            ),
            encoding="utf-8",
        )

    def _wait(self, name: str, proc: subprocess.Popen[bytes], probe: Callable[[], bool]) -> None:
        log = self.log_dir / f"{name}.log"
        deadline = time.monotonic() + self._startup_timeout
        last_error = "not probed yet"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ControlPlaneError(
                    f"{name} exited with {proc.returncode} during startup; "
                    f"log tail ({log}):\n{log_tail(log)}"
                )
            try:
                if probe():
                    return
                last_error = "not ready"
            except (OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
                last_error = repr(exc)
            time.sleep(0.25)
        raise ControlPlaneError(
            f"{name} not ready after {self._startup_timeout:.0f}s (last: {last_error}); "
            f"log tail ({log}):\n{log_tail(log)}"
        )

    # -- talking to the apiserver ------------------------------------------

    def ssl_context(
        self, *, cert_path: pathlib.Path | None = None, key_path: pathlib.Path | None = None
    ) -> ssl.SSLContext:
        """A client TLS context trusting the cluster CA, as admin unless told."""
        context = ssl.create_default_context(cafile=str(self.ca_cert_path))
        context.load_cert_chain(
            str(cert_path or self.admin_cert_path), str(key_path or self.admin_key_path)
        )
        return context

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, bytes]:
        """One raw HTTPS request to the apiserver; returns (status, body)."""
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=context or self.ssl_context()),
        )
        req = urllib.request.Request(self.url + path, data=body, method=method)  # noqa: S310
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with opener.open(req, timeout=timeout) as response:
                status: int = response.status
                return status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def get_json(self, path: str) -> dict[str, Any]:
        """GET ``path`` as admin and decode the JSON body (raises on non-200)."""
        status, body = self.request("GET", path)
        if status != 200:
            raise ControlPlaneError(f"GET {path} -> {status}: {body[:2000]!r}")
        decoded: dict[str, Any] = json.loads(body)
        return decoded

    def kubeconfig_document(
        self, *, user: str, cert_path: pathlib.Path, key_path: pathlib.Path
    ) -> dict[str, Any]:
        """A kubeconfig (as a dict; JSON is valid kubeconfig) for one user."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "bulkhead-test",
                    "cluster": {
                        "server": self.url,
                        "certificate-authority": str(self.ca_cert_path),
                    },
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {"client-certificate": str(cert_path), "client-key": str(key_path)},
                }
            ],
            "contexts": [
                {"name": user, "context": {"cluster": "bulkhead-test", "user": user}},
            ],
            "current-context": user,
        }

    def user_kubeconfig(self, user: str, *, groups: Sequence[str] = ()) -> pathlib.Path:
        """Issue a client cert for ``user`` in ``groups`` and write a kubeconfig for it.

        The user has no RBAC bindings unless a test creates them.
        """
        if self._ca is None or self._workdir is None:
            raise ControlPlaneError("control plane not started")
        users_dir = self._workdir / "users"
        users_dir.mkdir(mode=0o700, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        cert_path, key_path = self._ca.issue(
            common_name=user, organizations=groups, client=True
        ).write(users_dir, safe)
        path = users_dir / f"{safe}.kubeconfig"
        path.write_text(
            json.dumps(self.kubeconfig_document(user=user, cert_path=cert_path, key_path=key_path)),
            encoding="utf-8",
        )
        return path

    # -- real CLI tools ----------------------------------------------------

    def kubectl(
        self,
        *args: str,
        input_text: str | None = None,
        kubeconfig: pathlib.Path | None = None,
        check: bool = True,
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this control plane (admin unless told)."""
        argv = [
            str(self.kubetools_dir / "kubectl"),
            f"--kubeconfig={kubeconfig or self.kubeconfig}",
            *args,
        ]
        return run_tool(argv, input_text=input_text, check=check, timeout=timeout)

    def helm(
        self,
        *args: str,
        input_text: str | None = None,
        check: bool = True,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real helm against this control plane, with private helm dirs."""
        if self._workdir is None:
            raise ControlPlaneError("control plane not started")
        env = helm_environment(kubeconfig=self.kubeconfig, home=self._workdir / "helm")
        argv = [str(self.kubetools_dir / "helm"), *args]
        return run_tool(argv, input_text=input_text, check=check, timeout=timeout, env=env)

    def apply(self, *documents: Mapping[str, Any], namespace: str | None = None) -> None:
        """``kubectl apply`` the given objects (as a List) as admin."""
        ns_args = ["-n", namespace] if namespace else []
        manifest = {"apiVersion": "v1", "kind": "List", "items": list(documents)}
        self.kubectl("apply", *ns_args, "-f", "-", input_text=json.dumps(manifest))

    # -- namespaces --------------------------------------------------------

    def create_namespace(
        self, name: str | None = None, *, labels: Mapping[str, str] | None = None
    ) -> str:
        """Create a namespace (random name unless given) ready for Pods.

        There is no controller-manager, so this also creates the ``default``
        ServiceAccount that the ServiceAccount admission plugin expects.
        """
        name = name or f"bulkhead-test-{secrets.token_hex(4)}"
        self.apply(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": dict(labels or {})},
            }
        )
        self._ensure_default_service_account(name)
        return name

    def delete_namespace(self, name: str) -> None:
        """Delete a namespace without waiting.

        With no namespace controller it stays Terminating, but its name is
        random and nothing new can be created in it.
        """
        self.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")

    @contextlib.contextmanager
    def namespace(self, *, labels: Mapping[str, str] | None = None) -> Iterator[str]:
        """A fresh namespace for the duration of a ``with`` block."""
        name = self.create_namespace(labels=labels)
        try:
            yield name
        finally:
            self.delete_namespace(name)

    def _ensure_default_service_account(self, namespace: str) -> None:
        self.apply(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": namespace},
            }
        )


def run_tool(
    argv: Sequence[str],
    *,
    input_text: str | None,
    check: bool,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: pathlib.Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a CLI tool (kubectl, helm) to completion; ``CommandError`` if ``check`` and it fails."""
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    if check and result.returncode != 0:
        raise CommandError(argv, result)
    return result


def helm_environment(*, kubeconfig: pathlib.Path, home: pathlib.Path) -> dict[str, str]:
    """The environment for the real helm: one cluster, and cache, config and data under ``home``.

    Private helm directories keep a run from reading or writing the user's own.
    """
    return {
        "KUBECONFIG": str(kubeconfig),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def spawn(
    argv: Sequence[str],
    *,
    log_path: pathlib.Path,
    cwd: pathlib.Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, output appended to ``log_path``.

    Its own process group, so ``stop_group`` signals only it; it gets SIGTERM
    if the test process dies (``die_with_parent``). Call from the main thread.
    """
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - started from the main thread
        )


def stop_group(proc: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    """SIGTERM the process group led by ``proc`` (ours), then SIGKILL if needed.

    The group is signalled only while its leader is unreaped, so its id can
    not have been reused by an unrelated process.
    """
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
