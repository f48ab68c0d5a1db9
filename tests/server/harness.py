"""``bulkhead serve`` as a subprocess on loopback, and an HTTPS client for it.

``start`` runs the real command (``--port 0``), waits for its ``serving``
log line to learn the port and returns a ``Server``; its log goes to a file
so a busy server never blocks on a full pipe. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class ServerError(AssertionError):
    """The server did not start or stop as expected; the message carries its log."""


def bulkhead_command() -> list[str]:
    script = pathlib.Path(sys.executable).with_name("bulkhead")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from webhook import cli; sys.exit(cli.main())"]


def client_context(
    ca_file: pathlib.Path, *, cert: pathlib.Path | None = None, key: pathlib.Path | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key) if key else None)
    return context


@dataclasses.dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: pathlib.Path
    ca_file: pathlib.Path
    probe_port: int = 0

    def probe(self, path: str, *, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` on the plain-HTTP probe port."""
        connection = http.client.HTTPConnection("127.0.0.1", self.probe_port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            connection.close()

    def context(self, **kwargs: Any) -> ssl.SSLContext:
        return client_context(self.ca_file, **kwargs)

    def connection(
        self, *, context: ssl.SSLContext | None = None, timeout: float = 30.0
    ) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=context or self.context(), timeout=timeout
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str | None = "application/json",
        connection: http.client.HTTPSConnection | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        own = connection is None
        conn = connection or self.connection()
        try:
            headers = {"Content-Type": content_type} if content_type else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            if own:
                conn.close()

    def get_json(self, path: str) -> tuple[int, Any]:
        status, _, body = self.request("GET", path, content_type=None)
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

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired as err:
            self.process.kill()
            self.process.wait()
            raise ServerError(f"the server did not stop in time:\n{self.log_text()}") from err

    def stop(self) -> int:
        self.terminate()
        return self.wait()


def start(
    directory: pathlib.Path,
    *,
    ca_file: pathlib.Path,
    args: Sequence[str],
    env: dict[str, str] | None = None,
) -> Server:
    log_path = directory / f"serve-{uuid.uuid4().hex[:8]}.log"
    command = [
        *bulkhead_command(),
        "serve",
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--probe-port",
        "0",
        *args,
    ]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BULKHEAD_")}
    environment.update(env or {})
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    server = Server(process=process, port=0, log_path=log_path, ca_file=ca_file)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        for line in server.log_lines():
            if line.get("msg") == "serving":
                server.port = int(line["port"])
                server.probe_port = int(line["probePort"])
                return server
        if process.poll() is not None:
            raise ServerError(f"the server exited ({process.returncode}):\n{server.log_text()}")
        time.sleep(0.05)
    server.stop()
    raise ServerError(f"the server did not start:\n{server.log_text()}")


@contextlib.contextmanager
def running(
    directory: pathlib.Path,
    *,
    ca_file: pathlib.Path,
    args: Sequence[str],
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    server = start(directory, ca_file=ca_file, args=args, env=env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def poll(condition: Any, *, timeout: float, interval: float = 0.05, what: str) -> Any:
    """Call ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True
