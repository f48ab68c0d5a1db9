"""The registry client's guard rails: bearer tokens, Basic, redirects, size limits, digests.

A small HTTPS server on loopback plays a registry that requires a bearer
token (or, under ``/v2/basic/``, Basic authentication), or misbehaves on
purpose (redirects elsewhere, oversized or altered content), which a
well-behaved real registry cannot be made to do.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import pathlib
import ssl
import threading
from collections.abc import Iterator

import pytest

from devcluster import pki
from webhook.rules import image_references
from webhook.supplychain import dockerconfig, registry

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
TOKEN = "s3cr3t-token-value"
PASSWORD = "hunter2-password"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        del args

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        host = f"127.0.0.1:{self.server.server_address[1]}"
        self.server.seen.append(dict(self.headers))
        if self.path.startswith("/token"):
            expected = "Basic " + base64.b64encode(f"ci:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._send(401)
                return
            self._send(200, b'{"token": "%s"}' % TOKEN.encode())
            return
        if self.path.startswith("/v2/open/"):
            self._send(200, MANIFEST, Content_Type="application/vnd.oci.image.manifest.v1+json")
            return
        if self.path.startswith("/v2/basic/"):
            basic = "Basic " + base64.b64encode(f"ci:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != basic:
                self._send(401, WWW_Authenticate='Basic realm="test"')
            elif self.path.endswith("/away"):
                port = self.server.server_address[1]
                self._send(307, Location=f"https://localhost:{port}/v2/open/app/manifests/v1")
            else:
                self._send(200, MANIFEST, Content_Type="application/vnd.oci.image.manifest.v1+json")
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            challenge = f'Bearer realm="https://{host}/token",service="test"'
            self._send(401, WWW_Authenticate=challenge)
            return
        if self.path == "/v2/acme/app/manifests/v1":
            self._send(200, MANIFEST, Content_Type="application/vnd.oci.image.manifest.v1+json")
        elif self.path == f"/v2/acme/app/manifests/{'sha256:' + 'b' * 64}":
            self._send(200, MANIFEST)  # not the content that digest names
        elif self.path == "/v2/acme/app/manifests/huge":
            self._send(200, b"x" * 10_000)
        elif self.path == "/v2/acme/app/manifests/away":
            self._send(307, Location="https://localhost:1/v2/acme/app/manifests/v1")
        else:
            self._send(404)


class _Server(http.server.ThreadingHTTPServer):
    seen: list[dict[str, str]]


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[_Server, str]]:
    """The token-protected registry on loopback (it records each request's headers), CA file."""
    workdir: pathlib.Path = tmp_path_factory.mktemp("fake-registry")
    authority = pki.CertificateAuthority.generate("registry-test-ca")
    cert, key = authority.issue(
        common_name="127.0.0.1", dns_names=["localhost"], ip_addresses=["127.0.0.1"], server=True
    ).write(workdir, "serving")
    ca_file = workdir / "ca.crt"
    ca_file.write_bytes(authority.cert_pem)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.seen = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, str(ca_file)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(fake: tuple[_Server, str]) -> tuple[str, str]:
    """(host, CA file) of the fake registry."""
    return f"127.0.0.1:{fake[0].server_address[1]}", fake[1]


def _client(served: tuple[str, str], **settings: object) -> registry.Client:
    host, ca_file = served
    return registry.Client(host, registry.Settings(ca_file=ca_file, **settings))  # type: ignore[arg-type]


def _credentials(served: tuple[str, str]) -> dict[str, registry.Credential]:
    return {served[0]: registry.Credential("ci", PASSWORD)}


def test_bearer_token_flow_resolves_a_tag(served: tuple[str, str]) -> None:
    client = _client(served, credentials=_credentials(served))
    reference = image_references.parse(f"{served[0]}/acme/app:v1")
    assert client.resolve(reference) == DIGEST


def test_wrong_credentials_are_refused_without_leaking_them(served: tuple[str, str]) -> None:
    client = _client(served, credentials={served[0]: registry.Credential("ci", "wrong-pass")})
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("acme/app", "v1")
    assert "token service refused (HTTP 401" in str(caught.value)
    assert "wrong-pass" not in str(caught.value)


def test_redirect_to_another_host_is_refused(served: tuple[str, str]) -> None:
    client = _client(served, credentials=_credentials(served))
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("acme/app", "away")
    assert "redirected to another host (localhost), which is not allowed" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_oversized_manifest_is_refused(served: tuple[str, str]) -> None:
    client = _client(served, credentials=_credentials(served), max_manifest_bytes=1000)
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("acme/app", "huge")
    assert "10000 bytes is over the limit of 1000" in str(caught.value)


def test_content_not_matching_its_digest_is_refused(served: tuple[str, str]) -> None:
    client = _client(served, credentials=_credentials(served))
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("acme/app", "sha256:" + "b" * 64)
    assert f"whose digest is {DIGEST}, not sha256:{'b' * 64}" in str(caught.value)


def test_unknown_certificate_authority_is_refused(served: tuple[str, str]) -> None:
    client = registry.Client(served[0], registry.Settings())
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("acme/app", "v1")
    assert "is not trusted" in str(caught.value)


def test_credentials_from_a_docker_config_file_get_the_token(
    served: tuple[str, str], tmp_path: pathlib.Path
) -> None:
    config = tmp_path / "config.json"
    auth = base64.b64encode(f"ci:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {f"https://{served[0]}/v2/": {"auth": auth}}}))
    client = _client(served, credentials=dockerconfig.load(str(config)))
    assert client.resolve(image_references.parse(f"{served[0]}/acme/app:v1")) == DIGEST


def test_basic_authentication_sends_the_credential_to_the_registry(
    served: tuple[str, str],
) -> None:
    client = _client(served, credentials=_credentials(served))
    assert client.resolve(image_references.parse(f"{served[0]}/basic/app:v1")) == DIGEST


def test_basic_without_credentials_is_denied_naming_the_401(served: tuple[str, str]) -> None:
    client = _client(served)
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("basic/app", "v1")
    assert f"manifest {served[0]}/basic/app:v1: access denied (401)" in str(caught.value)
    assert "none are set for it" in str(caught.value)


def test_basic_with_a_wrong_password_is_denied_without_it(served: tuple[str, str]) -> None:
    client = _client(served, credentials={served[0]: registry.Credential("ci", "wrong-pass")})
    with pytest.raises(registry.RegistryError) as caught:
        client.manifest("basic/app", "v1")
    assert "access denied (401) even after authenticating" in str(caught.value)
    assert "wrong-pass" not in str(caught.value)


def test_a_pull_secret_credential_wins_over_the_configured_one(served: tuple[str, str]) -> None:
    wrong = {served[0]: registry.Credential("ci", "wrong-pass")}
    client = registry.Client(
        served[0],
        registry.Settings(ca_file=served[1], credentials=wrong),
        credential=registry.Credential("ci", PASSWORD),
    )
    assert client.manifest("basic/app", "v1").digest == DIGEST


def test_basic_credentials_never_follow_a_redirect_to_another_host(
    fake: tuple[_Server, str], served: tuple[str, str]
) -> None:
    other = f"localhost:{served[0].rpartition(':')[2]}"
    client = _client(served, credentials=_credentials(served), redirect_hosts=frozenset({other}))
    server_seen = fake[0].seen
    before = len(server_seen)
    assert client.manifest("basic/app", "away").digest == DIGEST
    redirected = [h for h in server_seen[before:] if h.get("Host") == other]
    assert redirected, "the redirect was not followed"
    assert all("Authorization" not in headers for headers in redirected)
