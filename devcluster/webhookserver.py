"""``bulkhead serve`` as a child process on loopback, with its own serving PKI.

Owns: the serving CA and certificate a webhook process needs (SANs for
127.0.0.1, localhost and the ``<service>.<namespace>.svc`` names the
apiserver uses when it reaches the webhook through a Service), starting the
real ``bulkhead`` CLI as a subprocess (the demo, the cluster tests and the
HTTPS server tests all run it through ``WebhookServer``), learning its ports
from its ``serving`` log line, waiting until ``/readyz`` answers, an HTTPS
client for it, and stopping and restarting it on the same port.

I/O: writes PEM files into the directory it is given, starts a process in
its own session and signals only that process group, and talks HTTPS and
HTTP to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

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


def serving_credential(
    ca: pki.CertificateAuthority, *, service: str, namespace: str
) -> pki.Credential:
    """A serving certificate from ``ca`` for 127.0.0.1, localhost and the Service's names."""
    return ca.issue(
        common_name=f"{service}.{namespace}.svc",
        dns_names=("localhost", *service_dns_names(service=service, namespace=namespace)),
        ip_addresses=(ADDRESS,),
        server=True,
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
        cert_path, key_path = serving_credential(ca, service=service, namespace=namespace).write(
            directory, "webhook-serving"
        )
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
    return [sys.executable, "-m", "webhook"]


def refuses_connections(port: int) -> bool:
    """Whether nothing accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection((ADDRESS, port), timeout=1.0):
            return False
    except OSError:
        return True


class WebhookServer(controlplane.Started):
    """One ``bulkhead serve`` process on 127.0.0.1, as a context manager.

    ``port`` None picks free ports before the start (so a webhook
    configuration can name it first); 0 lets the server choose its ports.
    Either way the ports are read back from the ``serving`` log line and
    kept, so a :meth:`stop` and :meth:`start` come back on the same URL. With
    ``wait_ready`` (the default) :meth:`start` also waits until ``/readyz``
    says 200. ``BULKHEAD_*`` variables of the calling environment are not
    passed on (only ``env``), so the flags here are all the settings.
    """

    def __init__(
        self,
        *,
        serving: ServingPKI,
        log_path: pathlib.Path,
        policy_files: Sequence[pathlib.Path] = (),
        profiles: Sequence[str] = (),
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        wait_ready: bool = True,
        startup_timeout: float = 60.0,
    ) -> None:
        self.serving = serving
        self.policy_files = tuple(policy_files)
        self.profiles = tuple(profiles)
        self.log_path = log_path
        self.port = controlplane.free_port() if port is None else port
        # both chosen up front unless the server chooses: the command line stays the same
        # across restarts (the demo recognises its webhook by it)
        self.probe_port = 0 if port == 0 else controlplane.free_port()
        self._extra_args = tuple(extra_args)
        self._env = dict(env or {})
        self._wait_ready = wait_ready
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"https://{ADDRESS}:{self.port}"

    @property
    def validate_url(self) -> str:
        """What a webhook configuration's ``clientConfig.url`` names."""
        return f"{self.base_url}/validate"

    @property
    def ca_file(self) -> pathlib.Path:
        """The CA a client trusts to call this server."""
        return self.serving.ca_path

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise WebhookServerError("bulkhead serve is not started")
        return self._process

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
        """Start the process and wait for its ``serving`` line (and ``/readyz``, if asked)."""
        if self.running:
            raise WebhookServerError("bulkhead serve is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # the log stays JSON lines (a restart appends); this start's lines begin here
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        environment = {k: v for k, v in os.environ.items() if not k.startswith("BULKHEAD_")}
        self._process = controlplane.spawn(
            self.argv(),
            log_path=self.log_path,
            cwd=controlplane.REPO_ROOT,
            env={**environment, **self._env},
        )
        try:
            self._wait_serving(offset)
            if self._wait_ready:
                self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def terminate(self) -> None:
        """SIGTERM the server (a graceful shutdown); :meth:`wait` reaps it."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> int:
        """The exit code, once the process has exited (killed after ``timeout``)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired as err:
            self.stop()
            raise WebhookServerError(f"bulkhead serve did not stop:\n{self.log_text()}") from err

    def stop(self) -> None:
        """SIGTERM the process group (SIGKILL if it lingers) and reap it."""
        if self._process is not None:
            controlplane.stop_group(self._process, grace=10.0)
            self._process = None

    # -- talking to it -----------------------------------------------------

    def context(
        self, *, cert: pathlib.Path | None = None, key: pathlib.Path | None = None
    ) -> ssl.SSLContext:
        """A client context trusting only the serving CA, with a client certificate if given."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        if cert is not None:
            context.load_cert_chain(str(cert), str(key) if key else None)
        return context

    def connection(
        self, *, context: ssl.SSLContext | None = None, timeout: float = 30.0
    ) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            ADDRESS, self.port, context=context or self.context(), timeout=timeout
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str | None = "application/json",
        connection: http.client.HTTPSConnection | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTPS request: status, lower-cased headers and body."""
        conn = connection or self.connection(timeout=timeout)
        try:
            headers = {"Content-Type": content_type} if content_type else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = {k.lower(): v for k, v in response.getheaders()}
            return response.status, answer, response.read()
        finally:
            if connection is None:
                conn.close()

    def get(self, path: str, *, timeout: float = 5.0) -> tuple[int, bytes]:
        """GET ``path`` over HTTPS: status and body."""
        status, _, body = self.request("GET", path, content_type=None, timeout=timeout)
        return status, body

    def get_json(self, path: str) -> tuple[int, Any]:
        status, body = self.get(path, timeout=30.0)
        return status, json.loads(body)

    def review(
        self, body: dict[str, Any], *, connection: http.client.HTTPSConnection | None = None
    ) -> dict[str, Any]:
        """POST an AdmissionReview to /validate; the whole review answered (HTTP 200 asserted)."""
        status, headers, raw = self.request(
            "POST", "/validate", json.dumps(body).encode(), connection=connection
        )
        assert status == 200, raw
        assert headers.get("content-type", "").startswith("application/json")
        answer: dict[str, Any] = json.loads(raw)
        return answer

    def probe(self, path: str, *, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` on the plain-HTTP probe port (what kubelet's probes call)."""
        connection = http.client.HTTPConnection(ADDRESS, self.probe_port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            connection.close()

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines so far (every start, in order)."""
        lines = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    # -- waiting -----------------------------------------------------------

    def _exited(self) -> WebhookServerError | None:
        process = self._process
        if process is not None and process.poll() is None:
            return None
        code = None if process is None else process.returncode
        return WebhookServerError(
            f"bulkhead serve exited with {code} during startup; log tail "
            f"({self.log_path}):\n{controlplane.log_tail(self.log_path)}"
        )

    def _wait_serving(self, offset: int) -> None:
        """Learn the ports from this start's ``serving`` log line."""
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode(errors="replace")
            for line in text.splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get("msg") == "serving":
                        self.port = int(record["port"])
                        self.probe_port = int(record["probePort"])
                        return
            exited = self._exited()
            if exited is not None:
                raise exited
            time.sleep(0.05)
        raise WebhookServerError(
            f"bulkhead serve did not log 'serving' within {self._startup_timeout:.0f}s; "
            f"log tail ({self.log_path}):\n{controlplane.log_tail(self.log_path)}"
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        last = "not probed yet"
        while time.monotonic() < deadline:
            exited = self._exited()
            if exited is not None:
                raise exited
            try:
                # the plain-HTTP probe port, as kubelet's readiness probe: no TLS names involved
                status, _, body = self.probe("/readyz", timeout=2.0)
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
