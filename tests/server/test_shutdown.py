"""SIGTERM: accept until no client routes here, finish the reviews in flight, exit 0."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

from devcluster import installation, webhookserver
from tests.server import reviews
from tests.server.conftest import Material, StartServer


def _head(length: int) -> bytes:
    return (
        "POST /validate HTTP/1.1\r\nHost: bulkhead\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def _wait_logged(server: webhookserver.WebhookServer, message: str) -> None:
    installation.wait_for(
        lambda: any(line.get("msg") == message for line in server.log_lines()),
        timeout=60,
        what=f"the server to log {message!r}",
    )


def _review_on_a_new_connection(server: webhookserver.WebhookServer) -> tuple[bool, str | None]:
    """A privileged Pod's review on a fresh connection: (refused by the policy, Connection)."""
    review = reviews.pod_review(namespace="team", privileged=True)
    connection = server.connection(timeout=30)
    try:
        body = json.dumps(review).encode()
        connection.request("POST", "/validate", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200
        assert answer["response"]["uid"] == review["request"]["uid"]
        return answer["response"]["allowed"] is False, response.getheader("Connection")
    finally:
        connection.close()


def test_after_sigterm_new_connections_are_answered_until_none_came_for_the_quiet_time(
    material: Material, start_server: StartServer
) -> None:
    # A client whose view of the Service's endpoints still lists a terminating Pod
    # (the apiserver dials Pod IPs) must get answers, not "connection refused".
    server = start_server(material, ["--profile", "baseline", "--shutdown-quiet", "10"])
    server.terminate()
    _wait_logged(server, "shutting down")
    for _ in range(5):  # back to back: each arrives well within the quiet time
        assert _review_on_a_new_connection(server) == (True, "close")
        assert server.probe("/readyz")[0] == 503
    _wait_logged(server, "listeners closed")
    assert webhookserver.refuses_connections(server.port)
    assert server.wait() == 0
    (closed,) = [line for line in server.log_lines() if line.get("msg") == "listeners closed"]
    assert closed["quiet"] is True


def test_sigterm_finishes_the_review_in_flight_and_stops_accepting(
    material: Material, start_server: StartServer
) -> None:
    server = start_server(material, ["--profile", "baseline"])
    first = reviews.pod_review(namespace="team")
    second = reviews.pod_review(namespace="team", privileged=True)
    first_body = json.dumps(first).encode()
    second_body = json.dumps(second).encode()
    half = len(second_body) // 2
    context = server.context()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        # the second request is sent with the first, half of its body held back: once the
        # first answer is here, the server has started reading the second request
        tls.sendall(
            _head(len(first_body)) + first_body + _head(len(second_body)) + second_body[:half]
        )
        status, answer = _read_response(tls)
        assert status == 200
        assert answer["response"]["uid"] == first["request"]["uid"]

        server.terminate()
        _wait_logged(server, "listeners closed")
        assert webhookserver.refuses_connections(server.port)
        tls.sendall(second_body[half:])
        status, answer = _read_response(tls)
        assert status == 200
        assert answer["response"]["uid"] == second["request"]["uid"]
        assert answer["response"]["allowed"] is False
    assert server.wait() == 0
    messages = [line.get("msg") for line in server.log_lines()]
    assert "shutting down" in messages
    assert messages[-1] == "stopped"


def test_an_idle_keep_alive_connection_still_gets_its_next_review_after_sigterm(
    material: Material, start_server: StartServer
) -> None:
    # The apiserver keeps using its keep-alive connections to a Pod that is
    # shutting down; a review sent on one just after SIGTERM must be answered
    # (with Connection: close), not cut by the server closing the idle connection.
    server = start_server(material, ["--profile", "baseline", "--drain-grace", "30"])
    first = json.dumps(reviews.pod_review(namespace="team")).encode()
    second = reviews.pod_review(namespace="team", privileged=True)
    second_body = json.dumps(second).encode()
    context = server.context()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(_head(len(first)) + first)
        status, _ = _read_response(tls)
        assert status == 200  # the connection is now idle, kept alive

        server.terminate()
        _wait_logged(server, "shutting down")
        tls.sendall(_head(len(second_body)) + second_body)
        response = http.client.HTTPResponse(tls)
        response.begin()
        assert response.status == 200
        assert response.getheader("Connection") == "close"
        answer = json.loads(response.read())
        assert answer["response"]["uid"] == second["request"]["uid"]
        assert answer["response"]["allowed"] is False
    assert server.wait() == 0
