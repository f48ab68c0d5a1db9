"""Hostile clients and hostile objects: none of them can stall, starve or bloat the server.

Each test is one way an attacker with network access to the webhook port
(any pod, by default) or the right to create one object could have made
every admission in the cluster fail. Deadlines are configured short here so
the tests stay quick; every wait is bounded.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import signal
import socket
import ssl
import threading
import time
from typing import Any

import pytest

from devcluster import installation, pki, webhookserver
from tests import exposition
from tests.server import reviews
from tests.server.conftest import Material, StartServer
from webhook.server.front import routes

#: Generous: a review on a loaded CI machine takes milliseconds; a stalled server takes forever.
PROMPT = 10.0


def _head(length: int | None, *, chunked: bool = False) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return (
        "POST /validate HTTP/1.1\r\nHost: bulkhead\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n"
    ).encode()


def _tls_socket(
    server: webhookserver.WebhookServer, context: ssl.SSLContext | None = None
) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=PROMPT)
    return (context or server.context()).wrap_socket(raw, server_hostname="127.0.0.1")


def _status_of(sock: ssl.SSLSocket) -> int | None:
    """The status of the answer waiting on ``sock``, or None if it was closed without one."""
    try:
        response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
        response.begin()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None


def _reviews_answered(
    server: webhookserver.WebhookServer, count: int, *, namespace: str, to_workers: bool = False
) -> int:
    """Send ``count`` compliant reviews on one keep-alive connection; how many were allowed.

    ``to_workers``: each review carries an annotation that makes it too large for the front
    to judge itself, so a worker judges it.
    """
    connection = server.connection(timeout=PROMPT)
    answered = 0
    try:
        for _ in range(count):
            request = reviews.pod_review(namespace=namespace)
            if to_workers:
                metadata = request["request"]["object"]["metadata"]
                metadata["annotations"] = {"note": "x" * (routes.INLINE_MAX_BYTES + 1024)}
            answer = server.review(request, connection=connection)
            response = answer["response"]
            if response["uid"] == request["request"]["uid"] and response["allowed"] is True:
                answered += 1
    finally:
        connection.close()
    return answered


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_half_sent_bodies_never_hold_up_other_reviews(
    material: Material, start_server: StartServer, chunked: bool
) -> None:
    server = start_server(material, ["--profile", "baseline", "--body-timeout", "3"])
    body = json.dumps(reviews.pod_review(namespace="team")).encode()
    holders = []
    for _ in range(16):
        sock = _tls_socket(server)
        if chunked:
            sock.sendall(_head(None, chunked=True) + f"{len(body):x}\r\n".encode() + body[:100])
        else:
            sock.sendall(_head(len(body)) + body[: len(body) // 2])
        holders.append(sock)
    try:
        started = time.monotonic()
        assert _reviews_answered(server, 100, namespace="team") == 100
        assert time.monotonic() - started < PROMPT
        assert server.probe("/healthz")[0] == 200
        # the half-sent bodies are cut with 408 once the body deadline passes
        assert [_status_of(sock) for sock in holders] == [408] * 16
    finally:
        for sock in holders:
            sock.close()


def test_idle_connections_at_the_limit_make_room_for_a_new_client(
    material: Material, start_server: StartServer
) -> None:
    limit = 64
    server = start_server(material, ["--profile", "baseline", "--max-connections", str(limit)])
    idle = [_tls_socket(server) for _ in range(limit)]
    try:
        assert _reviews_answered(server, 50, namespace="team") == 50
        # and again: the squatters cannot lock a client out by reconnecting
        idle.extend(_tls_socket(server) for _ in range(limit))
        assert _reviews_answered(server, 50, namespace="team") == 50
    finally:
        for sock in idle:
            sock.close()
    _, _, text = server.probe("/metrics")
    assert "bulkhead_connections_evicted_total" in text.decode()


def _big_review(containers: int, *, namespace: str) -> dict[str, Any]:
    spec = {"containers": [reviews.container(f"c{i}", privileged=True) for i in range(containers)]}
    return reviews.review(reviews.workload("Pod", name="big", namespace=namespace, spec=spec))


WARN_RESTRICTED = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: warn-restricted}
spec:
  action: Warn
  profile: {level: restricted, version: latest}
"""


def test_an_expensive_object_gets_a_small_capped_answer_and_other_reviews_go_on(
    material: Material, start_server: StartServer, tmp_path: Any
) -> None:
    """10,000 privileged containers under a Warn policy: tens of thousands of findings, of
    which the answer spells out the first 20 and sums up the rest in one line; normal reviews
    sent meanwhile are all answered."""
    policy = tmp_path / "warn.yaml"
    policy.write_text(WARN_RESTRICTED)
    server = start_server(
        material,
        ["--policy-file", str(policy), "--workers", "1", "--decision-timeout", "120"],
    )
    big = _big_review(10_000, namespace="team")
    big_body = json.dumps(big).encode()
    small_allowed: list[bool] = []

    def send_big() -> tuple[int, bytes]:
        status, _, raw = server.request("POST", "/validate", big_body)
        return status, raw

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(send_big)
        while not pending.done() or not small_allowed:
            small = reviews.pod_review(namespace="team")
            small_allowed.append(server.review(small)["response"]["allowed"] is True)
        status, raw = pending.result(timeout=120)
    assert all(small_allowed)
    assert status == 200
    assert len(raw) <= 256 * 1024
    response = json.loads(raw)["response"]
    assert response["uid"] == big["request"]["uid"]
    assert response["allowed"] is True
    warnings = response["warnings"]
    assert len(warnings) == 21
    assert all(w.startswith("ClusterContainerPolicy/warn-restricted: [pss/") for w in warnings[:20])
    last = warnings[-1]
    assert last.startswith("... and more findings of policy ClusterContainerPolicy/warn-restricted")
    assert "(at least " in last


def test_a_review_over_the_decision_deadline_is_denied_in_time_and_the_server_lives_on(
    material: Material, start_server: StartServer, tmp_path: Any
) -> None:
    server = start_server(
        material,
        [
            "--profile",
            "restricted",
            "--decision-timeout",
            "0.1",
            "--workers",
            "1",
        ],
    )
    big = _big_review(20_000, namespace="team")
    started = time.monotonic()
    status, _, raw = server.request("POST", "/validate", json.dumps(big).encode())
    assert time.monotonic() - started < PROMPT
    assert status == 200
    response = json.loads(raw)["response"]
    assert response["uid"] == big["request"]["uid"]
    assert response["allowed"] is False
    assert "could not judge this request within 0.1 s" in response["status"]["message"]

    # the worker was replaced: reviews are judged again (restricted denies this pod with 403;
    # one sent while the replacement starts may still meet the deadline, with code 500)
    def judged() -> bool:
        answer = server.review(reviews.pod_review(namespace="team"))
        return bool(answer["response"]["status"]["code"] == 403)

    installation.wait_for(judged, timeout=60, what="a review judged after the replacement")
    _, _, text = server.probe("/metrics")
    assert exposition.value(text.decode(), "bulkhead_decision_timeouts_total") >= 1


def test_garbage_kinds_do_not_grow_the_metrics(shared_server: webhookserver.WebhookServer) -> None:
    for index in range(200):
        request = reviews.pod_review(namespace="deny-kinds")
        request["request"]["kind"]["kind"] = f"Garbage{index:03d}" + "x" * 1000
        assert shared_server.review(request)["response"]["allowed"] is True
    status, _, text = shared_server.probe("/metrics")
    assert status == 200
    assert len(text) <= 256 * 1024
    assert b"Garbage" not in text
    assert b'bulkhead_admission_reviews_total{kind="other",outcome="skipped"}' in text


def test_connection_close_is_honoured(shared_server: webhookserver.WebhookServer) -> None:
    body = json.dumps(reviews.pod_review(namespace="deny-close")).encode()
    with _tls_socket(shared_server) as sock:
        sock.sendall(
            b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
        response.begin()
        assert response.status == 200
        assert response.getheader("Connection") == "close"
        response.read()
        assert sock.recv(1) == b""  # the server closed its side


@pytest.fixture
def mutual(material: Material, start_server: StartServer) -> webhookserver.WebhookServer:
    return start_server(
        material,
        [
            "--profile",
            "baseline",
            "--client-ca-file",
            str(material.ca_file),
            "--reload-interval",
            "0.2",
        ],
    )


def test_probes_and_metrics_need_no_client_certificate_on_the_probe_port(
    mutual: webhookserver.WebhookServer,
) -> None:
    assert mutual.probe("/healthz")[0] == 200
    assert mutual.probe("/readyz")[0] == 200
    status, headers, _ = mutual.probe("/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert mutual.probe("/validate")[0] == 404  # reviews only on the webhook port, over TLS


def _resume_and_ask(
    server: webhookserver.WebhookServer, context: ssl.SSLContext, saved: Any
) -> None:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=PROMPT)
    with context.wrap_socket(raw, server_hostname="127.0.0.1", session=saved) as sock:
        sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        if not sock.recv(1):
            raise ConnectionError("closed without an answer")


def test_no_tls_session_outlives_a_client_ca_rotation(
    material: Material, mutual: webhookserver.WebhookServer
) -> None:
    """A TLS 1.2 session made with the old client CA is not resumed once the CA changed."""
    context = mutual.context(cert=material.client_cert, key=material.client_key)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with _tls_socket(mutual, context) as sock:
        saved = sock.session
    assert saved is not None

    other = pki.CertificateAuthority.generate("another client CA")
    pki.write_atomically(material.ca_file, other.cert_pem)
    installation.wait_for(
        lambda: any(line.get("msg") == "certificate reloaded" for line in mutual.log_lines()),
        timeout=60,
        what="the new client CA to be loaded",
    )
    # a resumed session skips the certificate messages; the old client certificate no longer
    # chains to the client CA, so only a resumption could let this client in
    with pytest.raises((ssl.SSLError, OSError)):
        _resume_and_ask(mutual, context, saved)


def test_a_crashed_worker_is_replaced_and_its_review_refused(
    material: Material, start_server: StartServer
) -> None:
    server = start_server(material, ["--profile", "baseline"])
    pids = [int(line["pid"]) for line in server.log_lines() if line.get("msg") == "worker ready"]
    assert pids
    os.kill(pids[0], signal.SIGKILL)
    installation.wait_for(
        lambda: len([x for x in server.log_lines() if x.get("msg") == "worker ready"]) > len(pids),
        timeout=30,
        what="a replacement worker",
    )
    assert _reviews_answered(server, 20, namespace="team", to_workers=True) == 20


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_worker_over_its_memory_share_is_replaced_without_failing_a_review(
    material: Material, start_server: StartServer
) -> None:
    """With a share smaller than any worker, every worker asks to go after its first answer.

    Both first workers answer (the second takes the reviews while the first one's
    successor starts), so both are replaced, and no review waits for a worker to start
    (a wait as long as a start on a loaded machine would pass the decision deadline).
    """
    server = start_server(
        material,
        [
            "--profile",
            "baseline",
            "--workers",
            "2",
            "--worker-memory-mib",
            "1",
        ],
    )

    def ready_pids() -> dict[int, set[int]]:
        """The pids that said hello, by slot."""
        pids: dict[int, set[int]] = {0: set(), 1: set()}
        for line in server.log_lines():
            if line.get("msg") == "worker ready":
                pids[int(line["slot"])].add(int(line["pid"]))
        return pids

    first = ready_pids()
    assert all(len(pids) == 1 for pids in first.values()), first
    assert _reviews_answered(server, 12, namespace="team", to_workers=True) == 12
    installation.wait_for(
        lambda: (
            all(ready_pids()[slot] - first[slot] for slot in first)
            and not any(_alive(pid) for pids in first.values() for pid in pids)
        ),
        timeout=60,
        what="both first workers replaced by successors",
    )
    assert _reviews_answered(server, 12, namespace="team", to_workers=True) == 12


def test_many_concurrent_clients_all_get_answers(
    shared_server: webhookserver.WebhookServer,
) -> None:
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            if _reviews_answered(shared_server, 20, namespace="deny-many") != 20:
                raise AssertionError("a review went unanswered")
        except Exception as err:  # collected and asserted below
            with lock:
                errors.append(repr(err))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
