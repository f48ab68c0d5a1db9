"""Benchmark ``bulkhead serve`` over TLS on loopback with wrk, and print the figures.

Not a test: it measures and prints. Needs Linux, two cores and ``wrk``
(Debian: ``apt-get install -y wrk``). Run from the repository root:

    .venv/bin/python benchmarks/server.py [--duration 10] [--connections 16]

What it does, all on 127.0.0.1:

1. makes a throwaway CA and serving certificate (``cryptography``), a policy
   that enables every Bulkhead rule, and a ~3.5 KB AdmissionReview of a
   three-container Pod that passes ``restricted`` and every rule (the common
   case: nothing to report);
2. starts ``bulkhead serve --profile restricted --policy-file <all rules>
   --enable-noop-endpoint`` pinned to core 0 (``taskset -c 0``: the front,
   granian and its worker share that one core) and runs wrk pinned to core 1
   with keep-alive connections (``benchmarks/post.lua`` posts the body);
3. throughput: ``POST /noop`` (decode and answer, no judging) and
   ``POST /validate`` in the same run, several rounds each, best round kept;
4. latency at a fixed rate of about 1,000 reviews/s: wrk's ``delay()`` hook
   makes every connection wait a fixed time between requests (20 connections
   x 20 ms); the achieved rate and wrk's latency percentiles are printed;
5. memory: a second server with 100 policies loaded, RSS of each process
   after a short load.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = pathlib.Path(__file__).resolve().parent
LUA = HERE / "post.lua"
TARGET_THROUGHPUT = 5000.0
TARGET_RATIO = 0.60
TARGET_P99_MS = 2.0
TARGET_RSS_MB = 60.0

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
    """A ~3.5 KB Pod AdmissionReview that passes restricted and every Bulkhead rule."""
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
    return json.dumps(review).encode()


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


def bulkhead() -> list[str]:
    script = pathlib.Path(sys.executable).with_name("bulkhead")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from webhook import cli; sys.exit(cli.main())"]


class Server:
    def __init__(self, directory: pathlib.Path, args: list[str]) -> None:
        self.log = directory / f"serve-{time.monotonic_ns()}.log"
        command = ["taskset", "-c", "0", *bulkhead(), "serve", "--address", "127.0.0.1"]
        command += ["--port", "0", *args]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if '"msg":"serving"' in line:
                    return int(json.loads(line)["port"])
            if self.process.poll() is not None:
                sys.exit(f"bulkhead serve exited:\n{self.log.read_text()}")
            time.sleep(0.05)
        self.stop()
        sys.exit("bulkhead serve did not start within 60 s")

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def processes(self) -> dict[str, int]:
        """pid of the front, of granian's main process and of its worker."""
        found = {"front": self.process.pid}
        children = _children(self.process.pid)
        if children:
            found["granian"] = children[0]
            grandchildren = _children(children[0])
            if grandchildren:
                found["worker"] = grandchildren[0]
        return found

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


def rss_mb(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str, body: pathlib.Path, *, seconds: int, connections: int, delay_ms: int | None = None
) -> dict[str, Any]:
    env = dict(os.environ, BULKHEAD_BENCH_BODY=str(body))
    if delay_ms is not None:
        env["BULKHEAD_BENCH_DELAY_MS"] = str(delay_ms)
    command = [
        "taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
        "--latency", "-s", str(LUA), url,
    ]  # fmt: skip
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = {"command": " ".join(command), "raw": output}
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


def check_answer(server: Server, body: pathlib.Path, path: str) -> None:
    """One request with curl-free stdlib HTTPS: the body must be allowed, so we time the norm."""
    import http.client  # noqa: PLC0415 - only for this one check
    import ssl  # noqa: PLC0415

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    parsed = urllib.parse.urlparse(server.url(path))
    connection = http.client.HTTPSConnection(parsed.hostname or "", parsed.port, context=context)
    connection.request("POST", path, body.read_bytes(), {"Content-Type": "application/json"})
    answer = json.loads(connection.getresponse().read())
    connection.close()
    if answer["response"]["allowed"] is not True:
        sys.exit(f"the benchmark review is not allowed on {path}: {answer}")


def many_policies(directory: pathlib.Path, count: int) -> pathlib.Path:
    folder = directory / "policies"
    folder.mkdir()
    for index in range(count):
        text = ALL_RULES % {
            "name": f"team-{index:03d}",
            "action": ("Deny", "Warn", "Audit")[index % 3],
            "match": f'match: {{namespaces: ["team-{index:03d}-*"]}}',
        }
        (folder / f"team-{index:03d}.yaml").write_text(text)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint (best kept)")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.stderr.write("wrk is missing: install it with `apt-get install -y wrk` (Debian)\n")
        return 2
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        sys.stderr.write("needs taskset (util-linux) and at least two cores\n")
        return 2

    with tempfile.TemporaryDirectory(prefix="bulkhead-bench-") as temp:
        directory = pathlib.Path(temp)
        cert, key = write_tls(directory)
        body = directory / "review.json"
        body.write_bytes(review_body())
        policy = directory / "all-rules.yaml"
        policy.write_text(ALL_RULES % {"name": "all-rules", "action": "Deny", "match": ""})
        tls_args = ["--tls-cert-file", str(cert), "--tls-private-key-file", str(key)]

        print(f"review body: {body.stat().st_size} bytes; wrk {args.connections} connections")
        server = Server(
            directory,
            [*tls_args, "--profile", "restricted", "--policy-file", str(policy),
             "--enable-noop-endpoint"],
        )  # fmt: skip
        try:
            check_answer(server, body, "/validate")
            check_answer(server, body, "/noop")
            wrk(server.url("/validate"), body, seconds=2, connections=args.connections)  # warm
            best: dict[str, dict[str, Any]] = {}
            for _ in range(args.rounds):
                for path in ("/noop", "/validate"):
                    run = wrk(
                        server.url(path), body, seconds=args.duration, connections=args.connections
                    )
                    if path not in best or run["rps"] > best[path]["rps"]:
                        best[path] = run
            fixed = wrk(
                server.url("/validate"), body, seconds=max(args.duration, 10), connections=20,
                delay_ms=20,
            )  # fmt: skip
            loaded = server.processes()
            rss_one = {name: rss_mb(pid) for name, pid in loaded.items()}
        finally:
            server.stop()

        policies = many_policies(directory, 100)
        hundred = Server(
            directory, [*tls_args, "--profile", "restricted", "--policy-file", str(policies)]
        )
        try:
            check_answer(hundred, body, "/validate")
            wrk(hundred.url("/validate"), body, seconds=5, connections=args.connections)
            rss_hundred = {name: rss_mb(pid) for name, pid in hundred.processes().items()}
        finally:
            hundred.stop()

    noop, validate = best["/noop"], best["/validate"]
    ratio = validate["rps"] / noop["rps"] if noop["rps"] else float("nan")
    worker_rss = rss_hundred.get("worker", float("nan"))

    def mark(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    print()
    print(f"server pinned to core 0, wrk to core 1; best of {args.rounds} x {args.duration} s")
    print(
        f"  noop      {noop['rps']:8.0f} reviews/s  p50 {noop['p50']:.2f} ms  "
        f"p99 {noop['p99']:.2f} ms"
    )
    print(
        f"  validate  {validate['rps']:8.0f} reviews/s  p50 {validate['p50']:.2f} ms  "
        f"p99 {validate['p99']:.2f} ms   "
        f"[{mark(validate['rps'] >= TARGET_THROUGHPUT)} >= {TARGET_THROUGHPUT:.0f}/s]"
    )
    print(
        f"  validate / noop = {ratio:.0%}   [{mark(ratio >= TARGET_RATIO)} >= {TARGET_RATIO:.0%}]"
    )
    print(
        f"  fixed rate: {fixed['rps']:.0f} reviews/s (20 connections x 20 ms pause): "
        f"p50 {fixed['p50']:.2f} ms  p90 {fixed['p90']:.2f} ms  p99 {fixed['p99']:.2f} ms   "
        f"[{mark(fixed['p99'] <= TARGET_P99_MS)} p99 <= {TARGET_P99_MS} ms]"
    )
    print(
        "  RSS, restricted + all rules: " + ", ".join(f"{k} {v:.1f} MB" for k, v in rss_one.items())
    )
    print(
        "  RSS, 100 policies: "
        + ", ".join(f"{k} {v:.1f} MB" for k, v in rss_hundred.items())
        + f"   [{mark(worker_rss <= TARGET_RSS_MB)} worker <= {TARGET_RSS_MB:.0f} MB]"
    )
    bad = sum(r["bad"] for r in (noop, validate, fixed))
    errors = [r["socket_errors"] for r in (noop, validate, fixed) if r["socket_errors"]]
    print(f"  non-200 answers: {bad}; socket errors: {errors or 'none'}")
    print(f"  wrk command: {validate['command']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
