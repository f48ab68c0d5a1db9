"""TLS: certificate rotation under load with nothing dropped, mutual TLS, protocol floor."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time

import pytest

from devcluster import installation, pki, webhookserver
from tests.server import reviews
from tests.server.conftest import Material, StartServer

LOAD_THREADS = 8
ROTATIONS = 5
#: How long the load runs between two rotations (load duration, not synchronisation).
ROTATION_PERIOD = 0.6
NEW_CONNECTION_EVERY = 20


def _presented_serial(server: webhookserver.WebhookServer) -> int:
    context = server.context()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return pki.serial_of(der)


def test_rotating_the_certificate_under_load_fails_no_request(
    material: Material, start_server: StartServer
) -> None:
    server = start_server(material, ["--profile", "baseline", "--reload-interval", "0.2"])
    body = json.dumps(reviews.pod_review(namespace="team")).encode()
    headers = {"Content-Type": "application/json"}
    context = server.context()
    stop = threading.Event()
    lock = threading.Lock()
    failures: list[str] = []
    served = [0]
    seen_serials: set[int] = set()

    def load() -> None:
        connection: http.client.HTTPSConnection | None = None
        count = 0
        while not stop.is_set():
            try:
                if connection is None:
                    connection = server.connection(context=context, timeout=10)
                    connection.connect()
                    der = connection.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
                    with lock:
                        seen_serials.add(pki.serial_of(der))
                connection.request("POST", "/validate", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                ok = response.status == 200 and json.loads(data)["response"]["allowed"] is True
                with lock:
                    if ok:
                        served[0] += 1
                    else:
                        failures.append(f"HTTP {response.status}: {data[:200]!r}")
            except (OSError, http.client.HTTPException, ValueError) as err:
                with lock:
                    failures.append(repr(err))
                if connection is not None:
                    connection.close()
                connection = None
            count += 1
            if count % NEW_CONNECTION_EVERY == 0 and connection is not None:
                connection.close()  # new handshakes keep happening while certificates change
                connection = None
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=load, daemon=True) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    serials = [material.serving_serial]
    try:
        for _ in range(ROTATIONS):
            time.sleep(ROTATION_PERIOD)
            leaf = material.reissue()
            pki.write_atomically(material.key_file, leaf.key_pem)
            pki.write_atomically(material.cert_file, leaf.cert_pem)
            serials.append(leaf.serial)
        time.sleep(ROTATION_PERIOD)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    assert failures == []
    assert served[0] >= 200, f"only {served[0]} reviews in the run"
    assert len(seen_serials) >= 2, "no new certificate was presented during the run"
    assert seen_serials <= set(serials)
    installation.wait_for(
        lambda: _presented_serial(server) == serials[-1],
        timeout=60,
        what="the last certificate to be presented",
    )
    reloads = [line for line in server.log_lines() if line.get("msg") == "certificate reloaded"]
    assert reloads


def test_an_unusable_new_certificate_keeps_the_old_one(
    material: Material, start_server: StartServer
) -> None:
    server = start_server(material, ["--profile", "baseline", "--reload-interval", "0.2"])
    other = material.reissue()
    pki.write_atomically(material.cert_file, other.cert_pem)  # the key no longer matches
    installation.wait_for(
        lambda: any(
            line.get("msg") == "certificate reload failed; the previous certificate stays in use"
            for line in server.log_lines()
        ),
        timeout=60,
        what="the failed reload in the log",
    )
    assert _presented_serial(server) == material.serving_serial
    request = reviews.pod_review(namespace="team")
    assert server.review(request)["response"]["allowed"] is True


def test_mutual_tls_refuses_clients_without_a_certificate_from_the_ca(
    tmp_path: object, material: Material, start_server: StartServer
) -> None:
    server = start_server(
        material,
        ["--profile", "baseline", "--client-ca-file", str(material.ca_file)],
    )
    with_certificate = server.context(cert=material.client_cert, key=material.client_key)
    request = reviews.pod_review(namespace="team")
    answer = server.review(request, connection=server.connection(context=with_certificate))
    assert answer["response"]["allowed"] is True

    with pytest.raises((ssl.SSLError, OSError, http.client.HTTPException)):
        server.request("GET", "/healthz", content_type=None, connection=server.connection())

    stranger = pki.CertificateAuthority.generate("someone else")
    leaf = stranger.issue(common_name="intruder", client=True)
    cert = material.directory / "intruder.crt"
    key = material.directory / "intruder.key"
    cert.write_bytes(leaf.cert_pem)
    key.write_bytes(leaf.key_pem)
    foreign = server.context(cert=cert, key=key)
    with pytest.raises((ssl.SSLError, OSError, http.client.HTTPException)):
        server.request(
            "GET", "/healthz", content_type=None, connection=server.connection(context=foreign)
        )


def test_tls_1_2_works_only_with_forward_secret_aead_ciphers(
    shared_server: webhookserver.WebhookServer,
) -> None:
    tls12 = shared_server.context()
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    connection = shared_server.connection(context=tls12)
    connection.connect()
    sock = connection.sock
    assert isinstance(sock, ssl.SSLSocket)
    assert sock.version() == "TLSv1.2"
    cipher = sock.cipher()
    assert cipher is not None
    assert cipher[0].startswith("ECDHE-")
    assert "GCM" in cipher[0] or "CHACHA20" in cipher[0]
    assert sock.selected_alpn_protocol() in (None, "http/1.1")
    connection.close()

    cbc = shared_server.context()
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
    with pytest.raises(ssl.SSLError):
        shared_server.connection(context=cbc).connect()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_older_than_1_2_is_refused(shared_server: webhookserver.WebhookServer) -> None:
    old = shared_server.context()
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        shared_server.connection(context=old).connect()
