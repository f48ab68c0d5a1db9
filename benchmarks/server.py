"""Benchmark ``bulkhead serve`` over TLS on loopback, hostile clients included; print the figures.

Not a test: it measures and prints. Needs Linux, two cores, ``taskset`` and
``wrk`` (Debian: ``apt-get install -y wrk``). Run from the repository root:

    .venv/bin/python benchmarks/server.py [--duration 10] [--rounds 3] [--apiserver]
        [--core compiled|sources]

The server runs the pure core compiled by mypyc, as the image does
(``tools/compiled_core.sh`` builds it once per content; ``--core sources``
runs the checkout's Python instead).

Everything on 127.0.0.1; the server (the front and its two workers) pinned
to core 0, wrk and this script's own clients to core 1:

1. a throwaway CA and certificate, a policy enabling every Bulkhead rule and
   a ~3.1 KB Pod AdmissionReview (compact JSON, as the apiserver writes it)
   that passes ``restricted`` and every rule;
2. throughput (wrk, keep-alive, 16 connections): ``POST /noop``,
   ``POST /validate`` (``restricted`` + every rule) and, in the same run, a
   bare Flask app (orjson in and out, no judging) under granian with its own
   TLS, pinned to the same core; best round of each, and the ratio of
   ``/validate`` to the bare app within each round (the two run one after
   the other, so the machine changes least between them); and for each, the
   server's CPU time per review (user + system of every process and thread,
   the system part printed apart,
   from ``/proc``), which a shared machine disturbs far less than a rate:
   a single-threaded front and a multi-threaded granian get different
   shares of a contended core; and the share of core 0 the hypervisor
   stole (``/proc/stat``) while the kept rounds ran;
3. latency at 1,000 reviews/s: ``vegeta`` (built once from the Go module
   proxy by ``tools/vegeta.sh``, cached outside the repository) sends
   requests evenly spaced in time, whatever the answers' latency (wrk
   cannot: its ``delay()`` hook makes each connection pause after an
   answer, so connections answered together send together, and the load
   arrives in bursts as large as the number of connections), against
   ``/validate`` and, as the references for what this machine gives any
   server at that rate, the bare Flask app and ``tools/fixedanswer`` (Go,
   HTTP/1.1 over TLS, one fixed answer after reading the body: the floor);
   ``--rounds`` rounds, the three one after the other in each, medians
   printed. Then 500 new TLS connections one after another against each,
   one review on each: the server's CPU per new connection, which is what
   the connections an open-loop client opens during a stall cost;
4. hostile clients and objects: 16 connections holding half-sent bodies
   while another client sends 300 reviews; 1,024 idle TLS connections, then
   a new client sends 50; a review of 10,000 privileged containers with a
   normal review sent meanwhile; 200 reviews with 200 made-up kinds (RSS
   growth, ``/metrics`` size); 10 concurrent reviews just under 7 MiB (peak
   RSS of the server);
5. with ``--apiserver``: a real etcd and kube-apiserver from the test
   harness (``devcluster``; the control plane must have been built),
   ``--creates`` dry-run Pod creates over one REST connection (each run
   after 200 untimed ones) with no webhook, then with Bulkhead registered,
   then with no webhook again (the apiserver's own times drift while it
   warms up, so Bulkhead's cost is taken over the mean of the two); p50 and
   p99 of each.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import datetime
import http.client
import io
import ipaddress
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = pathlib.Path(__file__).resolve().parent
LUA = HERE / "post.lua"

ALL_RULES = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: %(name)s}
spec:
  action: %(action)s
  %(match)s
  rules:
    allowPrivilegeEscalation: false
    automountServiceAccountToken: false
    capabilities: {requireDrop: [ALL], allowedAdd: [NET_BIND_SERVICE]}
    hostNamespaces: false
    hostPath: false
    hostPorts: false
    images: {allowedRegistries: [ghcr.io/acme/], requireDigest: true, forbidLatest: true}
    literalSecretEnv: false
    privileged: false
    probes: [liveness, readiness]
    readOnlyRootFilesystem: true
    resources: {requireLimits: [cpu, memory], requireRequests: [memory], maxLimits: {memory: 4Gi}}
    runAsNonRoot: true
    seccomp: RuntimeDefault
"""


def _container(index: int) -> dict[str, Any]:
    return {
        "name": f"app-{index}",
        "image": f"ghcr.io/acme/service-{index}@sha256:" + "0123456789abcdef" * 4,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
        ],
        "resources": {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 5},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def review_body() -> bytes:
    """A ~3.1 KB Pod AdmissionReview that passes restricted and every Bulkhead rule."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9c",
            "namespace": "shop",
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": "7d4b9c"},
        },
        "spec": {
            "automountServiceAccountToken": False,
            "serviceAccountName": "web",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [_container(i) for i in range(3)],
        },
    }
    kind = {"group": "", "version": "v1", "kind": "Pod"}
    resource = {"group": "", "version": "v1", "resource": "pods"}
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0d3f9a51-9c57-4c3c-9b1e-5b7f7c1e2a10",
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": "web-7d4b9c",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {
                "username": "system:serviceaccount:kube-system:replicaset-controller",
                "groups": ["system:serviceaccounts", "system:authenticated"],
            },
            "object": pod,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }
    return json.dumps(review, separators=(",", ":")).encode()  # compact, as the apiserver writes


def write_tls(directory: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bulkhead.bench")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert = directory / "tls.crt"
    key_file = directory / "tls.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file


def use_core(choice: str) -> str:
    """Make the servers this script starts import the core ``choice`` names; say which."""
    if choice == "sources":
        return "the checkout's Python sources"
    built = subprocess.run(  # its progress (a cold build takes about 80 s) goes to stderr
        ["bash", str(HERE.parent / "tools" / "compiled_core.sh")],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.strip()
    # Children inherit it: the compiled package goes before the editable install.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [built, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    origin = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            "import importlib; print(importlib.import_module('webhook.admission.decide').__file__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=built,
    ).stdout.strip()
    if not origin.endswith(".so"):
        sys.exit(f"the compiled core in {built} does not load: {origin}")
    return f"compiled by mypyc ({built})"


def bulkhead() -> list[str]:
    script = pathlib.Path(sys.executable).with_name("bulkhead")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "webhook"]


class Server:
    """``bulkhead serve`` pinned to core 0 (the front and every worker share it)."""

    def __init__(self, directory: pathlib.Path, args: list[str]) -> None:
        self.log = directory / f"serve-{time.monotonic_ns()}.log"
        command = ["taskset", "-c", "0", *bulkhead(), "serve", "--address", "127.0.0.1"]
        command += ["--port", "0", "--probe-port", "0", *args]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.port, self.probe_port = self._wait_for_ports()

    def _wait_for_ports(self) -> tuple[int, int]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self.log.open(errors="replace") as log:
                for line in log:
                    if '"msg":"serving"' in line:
                        serving = json.loads(line)
                        return int(serving["port"]), int(serving["probePort"])
            if self.process.poll() is not None:
                sys.exit(f"bulkhead serve exited:\n{self.log.read_text()}")
            time.sleep(0.05)
        self.stop()
        sys.exit("bulkhead serve did not start within 60 s")

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def tree(self) -> list[int]:
        """The front's pid and its workers'."""
        return [self.process.pid, *_children(self.process.pid)]

    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in self.tree())

    def probe(self, path: str) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.probe_port, timeout=30)
        connection.request("GET", path)
        return connection.getresponse().read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _children(pid: int) -> list[int]:
    path = pathlib.Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """User and system CPU time of ``pids`` (every thread of each), seconds; 0 for one gone."""
    user = system = 0.0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11]) / os.sysconf("SC_CLK_TCK")
        system += int(fields[12]) / os.sysconf("SC_CLK_TCK")
    return user, system


def core_times(core: int) -> tuple[int, int]:
    """Clock ticks of ``core`` from ``/proc/stat``: (all, stolen by the hypervisor)."""
    for line in pathlib.Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == f"cpu{core}":
            ticks = [int(f) for f in fields[1:9]]  # user .. steal; guest time is in user
            return sum(ticks), ticks[7]
    return 0, 0


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` (0 once it has exited: a replaced worker)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    body: pathlib.Path,
    *,
    seconds: int,
    connections: int,
    server_pids: list[int] | None = None,
) -> dict[str, Any]:
    """One wrk run; with ``server_pids``, also the server's CPU time per request (µs)."""
    env = dict(os.environ, BULKHEAD_BENCH_BODY=str(body))
    command = [
        "taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
        "--latency", "-s", str(LUA), url,
    ]  # fmt: skip
    user_before, system_before = cpu_seconds(server_pids or [])
    ticks_before, stolen_before = core_times(0)
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    user, system = cpu_seconds(server_pids or [])
    user, system = user - user_before, system - system_before
    ticks, stolen = core_times(0)
    result: dict[str, Any] = {"command": " ".join(command), "raw": output}
    # the share of the server's core the hypervisor gave to others during the run
    result["stolen"] = (stolen - stolen_before) / max(1, ticks - ticks_before)
    requests = re.search(r"(\d+) requests in", output)
    count = int(requests.group(1)) if server_pids and requests else 0
    result["cpu_us"] = (user + system) / count * 1e6 if count else float("nan")
    result["system_us"] = system / count * 1e6 if count else float("nan")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(rate.group(1)) if rate else float("nan")
    for percentile in ("50", "75", "90", "99"):
        found = re.search(rf"^\s+{percentile}%\s+(\S+)", output, re.MULTILINE)
        result[f"p{percentile}"] = _ms(found.group(1)) if found else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    result["bad"] = int(errors.group(1)) if errors else 0
    result["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    return result


def _built(command: list[str], name: str) -> pathlib.Path:
    """``name`` in the bin directory that ``command`` (a build script of ``tools/``) prints."""
    found = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return pathlib.Path(found.stdout.strip()) / name


def vegeta_bin() -> pathlib.Path:
    """The cached ``vegeta`` binary, built on first use (``tools/vegeta.sh``, about a minute)."""
    return _built(["bash", str(HERE.parent / "tools" / "vegeta.sh")], "vegeta")


def fixed_answer_bin() -> pathlib.Path:
    """The cached ``fixedanswer`` server (``tools/fixedanswer``, standard library only)."""
    tools = HERE.parent / "tools"
    build = [str(tools / "gobuild.sh"), str(tools / "fixedanswer"), "fixedanswer", "fixedanswer"]
    return _built(["bash", *build], "fixedanswer")


#: Seconds at the start of each vegeta run left out: it opens its connections then (a TLS
#: handshake each), which an apiserver, keeping its connections open, does not do.
_RAMP_SECONDS: Final = 2


def at_rate(
    vegeta: pathlib.Path, url: str, body: pathlib.Path, ca: pathlib.Path, *, rate: int, seconds: int
) -> dict[str, Any]:
    """``rate`` requests a second for ``seconds``, evenly spaced (vegeta, core 1); times in ms.

    Open loop: a request is sent on time even when earlier ones are still
    unanswered (vegeta opens another connection for it), so a stall shows
    in the latencies instead of slowing the load. The first
    ``_RAMP_SECONDS`` run before the ``seconds`` timed.
    """
    targets = body.with_suffix(".targets")
    targets.write_text(f"POST {url}\nContent-Type: application/json\n@{body}\n")
    ticks_before, stolen_before = core_times(0)
    attack = subprocess.run(
        ["taskset", "-c", "1", str(vegeta), "attack", f"-rate={rate}/s",
         f"-duration={seconds + _RAMP_SECONDS}s", f"-root-certs={ca}", f"-targets={targets}"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    ticks, stolen = core_times(0)
    rows = subprocess.run(
        [str(vegeta), "encode", "--to", "csv"], input=attack.stdout, capture_output=True, check=True
    ).stdout.decode()
    # timestamp (ns), status code, latency (ns), bytes out, bytes in, error (base64), ...
    results = [(int(r[0]), r[1], int(r[2]) / 1e6, r[5]) for r in csv.reader(io.StringIO(rows))]
    first = min(sent for sent, *_ in results)
    timed = [r for r in results if r[0] - first >= _RAMP_SECONDS * 1_000_000_000]
    latencies = sorted(latency for _, _, latency, _ in timed)
    errors = {base64.b64decode(error).decode(errors="replace") for *_, error in timed if error}
    return {
        "rps": len(timed) / seconds,
        "p50": percentile(latencies, 0.50),
        "p90": percentile(latencies, 0.90),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1],
        "requests": len(timed),
        "bad": sum(1 for _, code, _, _ in timed if code != "200"),
        "errors": sorted(errors)[:3],
        "stolen": (stolen - stolen_before) / max(1, ticks - ticks_before),
    }


def _new_client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_CLIENT_CONTEXT = _new_client_context()


def _client_context() -> ssl.SSLContext:
    """One context for every client connection (loading CA files per connection is slow)."""
    return _CLIENT_CONTEXT


def post(
    connection: http.client.HTTPSConnection, body: bytes, path: str = "/validate"
) -> tuple[int, bytes]:
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def connect(port: int, timeout: float = 30.0) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection(
        "127.0.0.1", port, context=_client_context(), timeout=timeout
    )


def check_answer(port: int, body: bytes, path: str) -> None:
    """The benchmark review must be allowed, so what is timed is the common case."""
    connection = connect(port)
    status, raw = post(connection, body, path)
    connection.close()
    if status != 200 or json.loads(raw)["response"]["allowed"] is not True:
        sys.exit(f"the benchmark review is not allowed on {path}: {status} {raw[:300]!r}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


def slow_bodies(server: Server, body: bytes, *, holders: int, reviews: int) -> dict[str, Any]:
    """``holders`` TLS connections each hold a half-sent body while one client sends reviews."""
    head = (
        "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    held = []
    for _ in range(holders):
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock = _client_context().wrap_socket(raw)
        sock.sendall(head + body[: len(body) // 2])
        held.append(sock)
    connection = connect(server.port, timeout=10)
    latencies, failed = [], 0
    for _ in range(reviews):
        started = time.perf_counter()
        try:
            status, _ = post(connection, body)
        except (OSError, http.client.HTTPException):
            status = 0
            connection = connect(server.port, timeout=10)
        latencies.append((time.perf_counter() - started) * 1000)
        failed += status != 200
    connection.close()
    for sock in held:
        sock.close()
    return {"ok": reviews - failed, "p99": percentile(latencies, 0.99)}


def squatted(server: Server, body: bytes, *, limit: int, reviews: int) -> dict[str, Any]:
    """Fill the connection limit with idle TLS connections, then a new client sends reviews."""
    idle = []
    for _ in range(limit):
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        idle.append(_client_context().wrap_socket(raw))
    answered = 0
    connection = connect(server.port, timeout=10)
    for _ in range(reviews):
        try:
            status, _ = post(connection, body)
            answered += status == 200
        except (OSError, http.client.HTTPException):
            connection = connect(server.port, timeout=10)
    connection.close()
    for sock in idle:
        sock.close()
    return {"answered": answered}


def privileged_containers(count: int) -> bytes:
    review = json.loads(review_body())
    container = {
        "name": "c",
        "image": "registry.example/app@sha256:" + "a" * 64,
        "securityContext": {"privileged": True},
    }
    review["request"]["object"]["spec"]["containers"] = [
        dict(container, name=f"c{i}") for i in range(count)
    ]
    return json.dumps(review, separators=(",", ":")).encode()  # compact, as the apiserver writes


def expensive(server: Server, big: bytes, normal: bytes) -> dict[str, Any]:
    """One review of ``big`` and, sent just after it, one normal review: both timed."""
    result: dict[str, Any] = {}

    def send_big() -> None:
        connection = connect(server.port, timeout=60)
        started = time.perf_counter()
        status, raw = post(connection, big)
        result["big_s"] = time.perf_counter() - started
        result["big_bytes"] = len(raw)
        result["big_status"] = status
        connection.close()

    thread = threading.Thread(target=send_big)
    connection = connect(server.port)
    post(connection, normal)  # connected and warm
    thread.start()
    time.sleep(0.05)
    started = time.perf_counter()
    post(connection, normal)
    result["normal_ms"] = (time.perf_counter() - started) * 1000
    thread.join(120)
    connection.close()
    return result


def settle(server: Server) -> None:
    """Wait until every worker is up and idle again."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = server.probe("/metrics").decode()
        if "bulkhead_busy_workers 0.0" in text and len(server.tree()) == 3:
            return
        time.sleep(0.2)


def garbage_kinds(server: Server, body: bytes, count: int) -> dict[str, Any]:
    review = json.loads(body)
    connection = connect(server.port)
    for _ in range(400):  # both workers warm (a replaced one starts cold)
        post(connection, body)
    before = server.rss_mb()
    for index in range(count):
        review["request"]["kind"]["kind"] = f"Garbage{index:04d}" + "x" * 4000
        post(connection, json.dumps(review).encode())
    connection.close()
    return {"growth_mb": server.rss_mb() - before, "metrics_bytes": len(server.probe("/metrics"))}


def largest_reviews(server: Server, count: int) -> dict[str, Any]:
    """``count`` concurrent reviews just under the 7 MiB limit: the tree's peak RSS."""
    review = json.loads(review_body())
    # as many small objects as the 500,000-value limit lets through, padded to just under
    # 7 MiB: what costs a worker the most memory once decoded
    review["request"]["object"]["spec"]["containers"][0]["env"] = [
        {"name": "E", "value": "v" * 48} for _ in range(95_000)
    ]
    big = json.dumps(review, separators=(",", ":")).encode()
    peak = [server.rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(server.rss_mb())
            time.sleep(0.02)

    def send() -> None:
        connection = connect(server.port, timeout=120)
        with contextlib.suppress(OSError, http.client.HTTPException):
            post(connection, big)
        connection.close()

    sampler = threading.Thread(target=sample)
    sampler.start()
    senders = [threading.Thread(target=send) for _ in range(count)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(300)
    done.set()
    sampler.join()
    return {"body_bytes": len(big), "peak_mb": max(peak)}


BARE_APP = """\
import flask, orjson

app = flask.Flask("bare")


@app.post("/validate")
def validate():
    review = orjson.loads(flask.request.get_data())
    answer = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "response": {"uid": review["request"]["uid"], "allowed": True}}
    return flask.Response(orjson.dumps(answer), content_type="application/json")
"""


class BareFlask:
    """A bare Flask app (orjson in and out, no judging) under granian with its own TLS."""

    def __init__(self, directory: pathlib.Path, cert: pathlib.Path, key: pathlib.Path) -> None:
        (directory / "bare_app.py").write_text(BARE_APP)
        self.port = _free_port()
        command = [
            "taskset", "-c", "0", sys.executable, "-m", "granian", "--interface", "wsgi",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            "--blocking-threads", "1", "--runtime-threads", "1", "--runtime-mode", "st",
            "--http", "1", "--no-ws", "--log-level", "warning", "--no-access-log",
            "--working-dir", str(directory), "--ssl-certificate", str(cert),
            "--ssl-keyfile", str(key), "bare_app:app",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _wait_until_answering(self, "granian with the bare Flask app")

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def tree(self) -> list[int]:
        """granian's pid and its worker's."""
        return [self.process.pid, *_children(self.process.pid)]

    def stop(self) -> None:
        _stop(self.process)


class FixedAnswer:
    """``tools/fixedanswer`` (Go, one thread of Go code): the same allowed answer to every POST.

    The machine's floor for latency at a fixed rate: TLS, HTTP/1.1 and reading
    the body, and nothing else, on the same core.
    """

    def __init__(self, binary: pathlib.Path, cert: pathlib.Path, key: pathlib.Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            ["taskset", "-c", "0", str(binary), f"127.0.0.1:{self.port}", str(cert), str(key)],
            env={**os.environ, "GOMAXPROCS": "1"},
            stdout=subprocess.DEVNULL,
        )
        _wait_until_answering(self, "fixedanswer")

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        _stop(self.process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(server: BareFlask | FixedAnswer, what: str) -> None:
    """Until ``server`` allows the benchmark review; exits when it does not within 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            check_answer(server.port, review_body(), "/validate")
            return
        time.sleep(0.1)
    server.stop()
    sys.exit(f"{what} did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


#: Creates sent before each timed run of ``through_apiserver``, not timed.
_WARM_CREATES: Final = 200


def through_apiserver(directory: pathlib.Path, creates: int) -> dict[str, Any]:
    """Dry-run Pod creates over REST: p50/p99 with no webhook, with Bulkhead, with none again."""
    sys.path.insert(0, str(HERE.parent))
    figures: dict[str, Any] = {}
    # Unpinned: etcd, the apiserver and Bulkhead inherit this process's cores, and share the
    # machine as on a node (on the one core the throughput rounds leave, they would queue
    # behind each other and this client).
    pinned = os.sched_getaffinity(0)
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        _creates_through(directory, creates, figures)
    finally:
        os.sched_setaffinity(0, pinned)
    return figures


def _creates_through(directory: pathlib.Path, creates: int, figures: dict[str, Any]) -> None:
    from devcluster import controlplane, registration, webhookserver  # noqa: PLC0415

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bench", "namespace": "bench"},
        "spec": json.loads(review_body())["request"]["object"]["spec"],
    }
    with controlplane.ControlPlane(log_dir=directory / "cp-logs") as cp:
        namespace = cp.create_namespace()  # with its default ServiceAccount, as pods need
        pod["metadata"]["namespace"] = namespace
        pod["spec"].pop("serviceAccountName", None)  # the default one exists
        data = json.dumps(pod).encode()
        parsed = urllib.parse.urlparse(cp.url)

        def run(label: str) -> None:
            connection = http.client.HTTPSConnection(
                parsed.hostname or "", parsed.port, context=cp.ssl_context(), timeout=30
            )
            path = f"/api/v1/namespaces/{namespace}/pods?dryRun=All"
            headers = {"Content-Type": "application/json"}
            times, failed, first_failure = [], 0, ""
            for index in range(creates + _WARM_CREATES):
                started = time.perf_counter()
                connection.request("POST", path, data, headers)
                response = connection.getresponse()
                answer = response.read()
                if index >= _WARM_CREATES:  # warm-up excluded
                    times.append((time.perf_counter() - started) * 1000)
                    if response.status not in (200, 201):
                        failed += 1
                        first_failure = first_failure or f"{response.status} {answer[:300]!r}"
            if first_failure:
                print(f"  ({label}: first failed create: {first_failure})")
            connection.close()
            figures[label] = {
                "p50": percentile(times, 0.5),
                "p99": percentile(times, 0.99),
                "failed": failed,
            }

        run("none")
        serving = webhookserver.ServingPKI.write(
            directory / "apiserver-pki",
            service=registration.SERVICE_NAME,
            namespace=registration.WEBHOOK_NAMESPACE,
        )
        policy = directory / "all-rules.yaml"
        with webhookserver.WebhookServer(
            serving=serving,
            policy_files=[policy],
            profiles=["restricted"],
            log_path=directory / "apiserver-webhook.log",
        ) as server:
            cp.apply(
                registration.webhook_configuration(
                    name=registration.CONFIGURATION_NAME,
                    webhook_name=registration.WEBHOOK_NAME,
                    client_config=registration.url_client_config(
                        server.validate_url, ca_pem=serving.ca_pem
                    ),
                    selector=registration.namespace_selector(),
                )
            )
            with cp.namespace() as probe_namespace:
                registration.wait_until_judged(
                    cp, namespace=probe_namespace, webhook_name=registration.WEBHOOK_NAME
                )
                run("bulkhead")
                # and without it again: the apiserver's own times drift as it warms up
                cp.kubectl(
                    "delete", "validatingwebhookconfiguration", registration.CONFIGURATION_NAME
                )
                _wait_until_admitted(cp, probe_namespace)
            run("none after")


def _wait_until_admitted(cp: Any, namespace: str) -> None:
    """Until a dry-run violating Pod is admitted: no webhook is called any more."""
    from devcluster import registration  # noqa: PLC0415

    pod = registration.violating_pod("probe")
    deadline = time.monotonic() + 30
    while registration.dry_run_create(cp, namespace, pod)[0] != 0:
        if time.monotonic() > deadline:
            sys.exit("the webhook configuration was deleted but Bulkhead still judges pods")
        time.sleep(0.2)


#: The servers timed at 1,000 reviews/s, in their order within a round, and their names in print.
_PACED: Final = (
    ("validate", "Bulkhead /validate"),
    ("bare", "bare Flask app"),
    ("floor", "fixed answer in Go (the machine's floor)"),
)


def paced_rounds(
    vegeta: pathlib.Path,
    urls: dict[str, str],
    body: pathlib.Path,
    cert: pathlib.Path,
    *,
    rounds: int,
    seconds: int,
) -> list[dict[str, dict[str, Any]]]:
    """``rounds`` rounds of 1,000 reviews/s against each of ``_PACED``, one after the other."""
    return [
        {name: at_rate(vegeta, urls[name], body, cert, rate=1000, seconds=seconds)
         for name, _ in _PACED}
        for _ in range(rounds)
    ]  # fmt: skip


def new_connections(port: int, pids: list[int], body: bytes, count: int) -> dict[str, float]:
    """``count`` TLS connections one after another, one review each: server CPU per connection.

    What a client that reconnects costs the server (an apiserver after a
    network blip, or one opening connections because its open ones are all
    waiting on answers), in microseconds, with the wall time per connection.
    """
    context = _client_context()
    request = (
        f"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    user, system = cpu_seconds(pids)
    started = time.perf_counter()
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(request)
                if not tls.recv(65536).startswith(b"HTTP/1.1 200"):
                    sys.exit(f"a review on a new connection to port {port} was not answered 200")
    wall = time.perf_counter() - started
    user_after, system_after = cpu_seconds(pids)
    return {
        "cpu_us": (user_after + system_after - user - system) / count * 1e6,
        "wall_us": wall / count * 1e6,
    }


def print_paced(paced: list[dict[str, dict[str, Any]]]) -> None:
    """Each server's p99 by round and the medians over the rounds; the target on Bulkhead's."""
    timed = paced[0]["validate"]["requests"]
    print(
        f"  1,000 reviews/s evenly spaced (vegeta; {len(paced)} rounds, each server in turn, "
        f"about {timed:,} requests each timed after {_RAMP_SECONDS} s); medians over the rounds:"
    )
    for name, label in _PACED:
        runs = [r[name] for r in paced]
        median = {k: statistics.median(r[k] for r in runs) for k in ("p50", "p90", "p99", "max")}
        if name == "validate":
            verdict = f"   [{_mark(median['p99'] <= 2.0)} p99 <= 2 ms]"
        elif name == "floor":
            verdict = f"   (p99 <= 2 ms {'possible' if median['p99'] <= 2.0 else 'not met'} here)"
        else:
            verdict = ""
        by_round = ", ".join(f"{r['p99']:.2f}" for r in runs)
        print(
            f"    {label}: p50 {median['p50']:.2f}  p90 {median['p90']:.2f}  "
            f"p99 {median['p99']:.2f}  max {median['max']:.1f} ms; p99 by round "
            f"{by_round}{verdict}"
        )
    stolen = max(r[name]["stolen"] for r in paced for name, _ in _PACED)
    print(f"    core 0 stolen by the hypervisor meanwhile: at most {stolen:.1%} of a run")


def _mark(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint (best kept)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--apiserver",
        action="store_true",
        help="also time dry-run creates through a real apiserver",
    )
    parser.add_argument("--creates", type=int, default=500, help="creates per apiserver round")
    parser.add_argument(
        "--core",
        choices=("compiled", "sources"),
        default="compiled",
        help="the server's pure core: compiled by mypyc as in the image (default), or the "
        "checkout's Python sources",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.stderr.write("wrk is missing: install it with `apt-get install -y wrk` (Debian)\n")
        return 2
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        sys.stderr.write("needs taskset (util-linux) and at least two cores\n")
        return 2
    os.sched_setaffinity(0, {1})  # this script's own clients run beside wrk, on core 1
    body_bytes = review_body()
    print(f"the server's pure core: {use_core(args.core)}")

    with tempfile.TemporaryDirectory(prefix="bulkhead-bench-") as temp:
        directory = pathlib.Path(temp)
        cert, key = write_tls(directory)
        body = directory / "review.json"
        body.write_bytes(body_bytes)
        policy = directory / "all-rules.yaml"
        policy.write_text(ALL_RULES % {"name": "all-rules", "action": "Deny", "match": ""})
        tls_args = ["--tls-cert-file", str(cert), "--tls-private-key-file", str(key)]

        vegeta = vegeta_bin()
        print(f"review body: {len(body_bytes)} bytes; wrk {args.connections} connections")
        bare = BareFlask(directory, cert, key)
        floor = FixedAnswer(fixed_answer_bin(), cert, key)
        server = Server(
            directory,
            [*tls_args, "--profile", "restricted", "--policy-file", str(policy),
             "--enable-noop-endpoint", "--workers", "2"],
        )  # fmt: skip
        try:
            check_answer(server.port, body_bytes, "/validate")
            check_answer(server.port, body_bytes, "/noop")
            wrk(server.url("/validate"), body, seconds=2, connections=args.connections)  # warm
            wrk(bare.url("/validate"), body, seconds=2, connections=args.connections)
            best: dict[str, dict[str, Any]] = {}
            rounds: list[dict[str, dict[str, Any]]] = []  # every round's runs, for the ratios
            for _ in range(args.rounds):
                rounds.append({})
                for name, url, pids in (
                    ("noop", server.url("/noop"), server.tree()),
                    ("validate", server.url("/validate"), server.tree()),
                    ("bare", bare.url("/validate"), bare.tree()),
                ):
                    run = wrk(
                        url,
                        body,
                        seconds=args.duration,
                        connections=args.connections,
                        server_pids=pids,
                    )
                    rounds[-1][name] = run
                    if name not in best or run["rps"] > best[name]["rps"]:
                        best[name] = run
            # the same rate against the bare Flask app and a fixed answer in Go: what the
            # machine gives servers that do almost nothing, the references for the p99 target
            urls = {"validate": server.url("/validate"), "bare": bare.url("/validate")}
            urls["floor"] = floor.url("/validate")
            paced = paced_rounds(
                vegeta, urls, body, cert, rounds=args.rounds, seconds=max(args.duration, 10)
            )
            reconnecting = {
                name: new_connections(port, pids, body_bytes, 500)
                for name, port, pids in (
                    ("validate", server.port, [server.process.pid]),
                    ("bare", bare.port, bare.tree()),
                    ("floor", floor.port, [floor.process.pid]),
                )
            }
            bare.stop()
            floor.stop()
            rss_loaded = {pid: rss_mb(pid) for pid in server.tree()}
            held = slow_bodies(server, body_bytes, holders=16, reviews=300)
            big = privileged_containers(10_000)
            costly = expensive(server, big, body_bytes)
            settle(server)  # a worker replaced at the decision deadline is back
            kinds = garbage_kinds(server, body_bytes, 200)
            squat = squatted(server, body_bytes, limit=1024, reviews=50)
            largest = largest_reviews(server, 10)
        finally:
            bare.stop()
            floor.stop()
            server.stop()
        apiserver = through_apiserver(directory, args.creates) if args.apiserver else None

    noop, validate, flask_bare = best["noop"], best["validate"], best["bare"]
    ratio = validate["rps"] / flask_bare["rps"] if flask_bare["rps"] else float("nan")
    print()
    print(
        f"server pinned to core 0 (front and its workers), wrk and the clients here on core 1; "
        f"best of {args.rounds} x {args.duration} s; the machine may be shared: figures vary"
    )
    print(f"  noop            {noop['rps']:8.0f} reviews/s  p50 {noop['p50']:.2f} ms")
    print(
        f"  validate        {validate['rps']:8.0f} reviews/s  p50 {validate['p50']:.2f} ms  "
        f"p99 {validate['p99']:.2f} ms   [{_mark(validate['rps'] >= 5000)} >= 5,000/s]"
    )
    print(
        f"  bare Flask (granian, orjson, no judging) {flask_bare['rps']:8.0f} reviews/s;  "
        f"validate / bare = {ratio:.2f}   [{_mark(ratio >= 1.0)} >= 1.0]"
    )
    # each round's /validate and bare runs follow each other: their ratio is the least disturbed
    paired = sorted(r["validate"]["rps"] / r["bare"]["rps"] for r in rounds if r["bare"]["rps"])
    if paired:
        print(
            f"  validate / bare within each round: {', '.join(f'{x:.2f}' for x in paired)} "
            f"(median {statistics.median(paired):.2f})"
        )
    cpu_ratio = flask_bare["cpu_us"] / validate["cpu_us"]
    print(
        f"  CPU time per review (server processes, all threads): noop {noop['cpu_us']:.0f} us, "
        f"validate {validate['cpu_us']:.0f} us, bare Flask {flask_bare['cpu_us']:.0f} us "
        f"(in the kernel: {noop['system_us']:.0f}, {validate['system_us']:.0f}, "
        f"{flask_bare['system_us']:.0f} us); "
        f"bare / validate = {cpu_ratio:.2f} (the throughput ratio with a core to each, "
        "whatever else shares the machine)"
    )
    print_paced(paced)
    costs = []
    for name, label in _PACED:
        cost = reconnecting[name]
        costs.append(f"{label} {cost['cpu_us']:.0f} us ({cost['wall_us']:.0f} us)")
    print(
        "  500 new TLS connections one after another, one review each: server CPU per "
        f"connection (wall): {', '.join(costs)}"
    )
    stolen = max(r["stolen"] for r in (noop, validate, flask_bare))
    print(
        f"  core 0 stolen by the hypervisor: at most {stolen:.1%} of a best round "
        "(/proc/stat steal; the throughput figures are only comparable when it is near 0)"
    )
    print(
        f"  16 half-sent bodies held, 300 reviews from another client: {held['ok']}/300 answered, "
        f"p99 {held['p99']:.1f} ms   [{_mark(held['ok'] == 300 and held['p99'] <= 100)} "
        "all, p99 <= 100 ms]"
    )
    print(
        f"  1,024 idle connections, then a new client: {squat['answered']}/50 answered   "
        f"[{_mark(squat['answered'] == 50)} 50/50]"
    )
    print(
        f"  10,000 privileged containers ({len(big):,} bytes): answered in "
        f"{costly['big_s']:.2f} s (HTTP {costly['big_status']}), {costly['big_bytes']:,} bytes; "
        f"a normal review sent meanwhile: {costly['normal_ms']:.0f} ms   "
        f"[{_mark(costly['big_s'] <= 1.0)} <= 1 s, "
        f"{_mark(costly['big_bytes'] <= 256 * 1024)} <= 256 KiB, "
        f"{_mark(costly['normal_ms'] <= 500)} <= 500 ms]"
    )
    print(
        f"  200 garbage kinds: RSS {kinds['growth_mb']:+.1f} MB, /metrics "
        f"{kinds['metrics_bytes']:,} bytes   [{_mark(kinds['growth_mb'] <= 20)} <= 20 MB, "
        f"{_mark(kinds['metrics_bytes'] <= 256 * 1024)} <= 256 KiB]"
    )
    print(
        f"  10 concurrent {largest['body_bytes']:,}-byte reviews: peak RSS of the server "
        f"{largest['peak_mb']:.0f} MB (front + workers)"
    )
    print("  RSS after the load: " + ", ".join(f"{v:.1f} MB" for v in rss_loaded.values()))
    if apiserver is not None:
        none, judged, after = apiserver["none"], apiserver["bulkhead"], apiserver["none after"]
        extra = judged["p50"] - (none["p50"] + after["p50"]) / 2
        failed = none["failed"] + judged["failed"] + after["failed"]
        print(
            f"  apiserver, {args.creates} dry-run Pod creates over REST after "
            f"{_WARM_CREATES} untimed: no webhook p50 {none['p50']:.2f} ms p99 "
            f"{none['p99']:.2f} ms; with Bulkhead p50 {judged['p50']:.2f} ms p99 "
            f"{judged['p99']:.2f} ms; no webhook again p50 {after['p50']:.2f} ms p99 "
            f"{after['p99']:.2f} ms; +{extra:.2f} ms p50 over the two without   "
            f"[{_mark(extra <= 3.0)} <= +3 ms]; failed {failed}"
        )
    bad = sum(r["bad"] for r in (noop, validate))
    errors = [r["socket_errors"] for r in (noop, validate) if r["socket_errors"]]
    print(f"  non-200 answers under wrk: {bad}; socket errors: {errors or 'none'}")
    vegeta_bad = sum(r["validate"]["bad"] for r in paced)
    vegeta_errors = sorted({e for r in paced for e in r["validate"]["errors"]})[:3]
    print(f"  non-200 answers under vegeta: {vegeta_bad}; errors: {vegeta_errors or 'none'}")
    print(f"  wrk command: {validate['command']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
