"""``bulkhead serve`` as a child process on loopback, with its own serving PKI.

Owns: the serving CA and certificate a webhook process needs (SANs for
127.0.0.1, localhost and the ``<service>.<namespace>.svc`` names the
apiserver uses when it reaches the webhook through a Service), starting the
real ``bulkhead`` CLI as a subprocess, waiting until ``/readyz`` answers, and
stopping and restarting it on the same port.

I/O: writes PEM files into the directory it is given, starts a process in
its own session and signals only that process group, and talks HTTPS to
127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Self

from devcluster import controlplane, pki

ADDRESS = "127.0.0.1"


class WebhookServerError(RuntimeError):
    """``bulkhead serve`` could not be started or did not become ready."""


def service_dns_names(*, service: str, namespace: str) -> tuple[str, ...]:
    """The DNS names a Service-routed webhook is called by (the apiserver uses ``.svc``)."""
    return (
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    )


@dataclasses.dataclass(frozen=True)
class ServingPKI:
    """A webhook serving CA (the caBundle) and a serving certificate, on disk.

    ``ca`` is ``None`` when someone else holds the CA (the operator issues the
    files); then only the paths are known.
    """

    ca: pki.CertificateAuthority | None
    ca_path: pathlib.Path
    cert_path: pathlib.Path
    key_path: pathlib.Path
    dns_names: tuple[str, ...]

    @classmethod
    def write(cls, directory: pathlib.Path, *, service: str, namespace: str) -> ServingPKI:
        """Make a CA and a serving cert for 127.0.0.1, localhost and the Service's names."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        ca = pki.CertificateAuthority.generate("bulkhead-webhook-serving-ca")
        ca_path, _ = ca.credential.write(directory, "webhook-ca")
        dns_names = ("localhost", *service_dns_names(service=service, namespace=namespace))
        cert_path, key_path = ca.issue(
            common_name=f"{service}.{namespace}.svc",
            dns_names=dns_names,
            ip_addresses=(ADDRESS,),
            server=True,
        ).write(directory, "webhook-serving")
        return cls(
            ca=ca, ca_path=ca_path, cert_path=cert_path, key_path=key_path, dns_names=dns_names
        )

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate, as a webhook configuration's caBundle carries it."""
        if self.ca is None:
            return self.ca_path.read_bytes()
        return self.ca.cert_pem


def bulkhead_command() -> list[str]:
    """How to run the ``bulkhead`` CLI of the Python running the tests."""
    beside = pathlib.Path(sys.executable).with_name("bulkhead")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("bulkhead")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys, webhook.cli; sys.exit(webhook.cli.main())"]


class WebhookServer:
    """One ``bulkhead serve`` process on 127.0.0.1, as a context manager.

    The port is chosen once, so a :meth:`stop` and :meth:`start` come back on
    the same URL (webhook configurations stay valid across them).
    """

    def __init__(
        self,
        *,
        serving: ServingPKI,
        policy_files: Sequence[pathlib.Path] = (),
        profiles: Sequence[str] = (),
        log_path: pathlib.Path,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        self.serving = serving
        self.policy_files = tuple(policy_files)
        self.profiles = tuple(profiles)
        self.log_path = log_path
        self.port = port or controlplane.free_port()
        self.probe_port = controlplane.free_port()
        self._extra_args = tuple(extra_args)
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

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

    @property
    def base_url(self) -> str:
        return f"https://{ADDRESS}:{self.port}"

    @property
    def validate_url(self) -> str:
        """What a webhook configuration's ``clientConfig.url`` names."""
        return f"{self.base_url}/validate"

    @property
    def pid(self) -> int | None:
        """The process id (and process-group id) while running."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def argv(self) -> list[str]:
        """The full ``bulkhead serve`` command line."""
        args = [
            *bulkhead_command(),
            "serve",
            "--tls-cert-file",
            str(self.serving.cert_path),
            "--tls-private-key-file",
            str(self.serving.key_path),
            "--address",
            ADDRESS,
            "--port",
            str(self.port),
            "--probe-port",
            str(self.probe_port),
        ]
        for path in self.policy_files:
            args.extend(("--policy-file", str(path)))
        for profile in self.profiles:
            args.extend(("--profile", profile))
        args.extend(self._extra_args)
        return args

    def start(self) -> None:
        """Start the process and wait until ``/readyz`` says 200."""
        if self.running:
            raise WebhookServerError("bulkhead serve is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- starting: {' '.join(self.argv())}\n".encode())
        self._process = controlplane.spawn(
            self.argv(), log_path=self.log_path, cwd=controlplane.REPO_ROOT
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM the process group (SIGKILL if it lingers) and reap it."""
        if self._process is not None:
            controlplane.stop_group(self._process, grace=10.0)
            self._process = None

    def get(self, path: str, *, timeout: float = 5.0) -> tuple[int, bytes]:
        """GET ``path`` over HTTPS, trusting only the serving CA."""
        context = ssl.create_default_context(cafile=str(self.serving.ca_path))
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        try:
            with opener.open(self.base_url + path, timeout=timeout) as response:
                status: int = response.status
                return status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        last = "not probed yet"
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise WebhookServerError(
                    f"bulkhead serve exited with {code} during startup; log tail "
                    f"({self.log_path}):\n{controlplane.log_tail(self.log_path)}"
                )
            try:
                status, body = self.get("/readyz", timeout=2.0)
                if status == 200:
                    return
                last = f"/readyz {status}: {body[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise WebhookServerError(
            f"bulkhead serve not ready after {self._startup_timeout:.0f}s (last: {last}); "
            f"log tail ({self.log_path}):\n{controlplane.log_tail(self.log_path)}"
        )
