"""A minimal, defensive client of the OCI distribution API. Does network I/O.

Owns talking to registries: HTTPS only, with the system trust store or a
configured CA bundle, over kept-alive connections (``connections``);
anonymous access, the registry's bearer-token flow
(``WWW-Authenticate: Bearer realm=...``) with optional credentials, or Basic
authentication (``WWW-Authenticate: Basic``, credentials required); every
request under a timeout; redirects followed only to the same host (or hosts
configured as allowed); responses read up to a size limit; and every digest
recomputed from the bytes received, never taken from a header.

What it answers: the digest a tag points to (``resolve``), a manifest and a
blob by digest, the manifests tagged by a name, and the OCI 1.1 referrers of
a digest (``None`` when the registry does not serve that API). Every failure
is a ``RegistryError`` whose message names the registry, repository and what
went wrong, never a credential or a token.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import re
import socket
import ssl
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import image_references
from webhook.supplychain import connections

#: Manifest media types a tag may point at, most specific first (the Accept header).
MANIFEST_TYPES: Final = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
DEFAULT_TIMEOUT: Final = 5.0
DEFAULT_MAX_MANIFEST: Final = 4 * 1024 * 1024
#: Docker Hub's API lives at another name than its references use.
_API_HOSTS: Final = {image_references.DOCKER_HUB: "registry-1.docker.io"}
_MAX_REDIRECTS: Final = 3
_MAX_TOKEN: Final = 64 * 1024
_CHALLENGE_PARAM: Final = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """A registry could not answer safely; the message is fit for a denial (no secrets)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Credential:
    """A user name and password (or token) for one registry host; never printed."""

    username: str
    password: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How to reach registries.

    ``ca_file`` is a PEM bundle trusted instead of the system store (for
    private registries); ``credentials`` are by registry host (``host:port``);
    ``redirect_hosts`` are other hosts a registry may redirect to (blob
    storage); ``timeout`` bounds each connect and read, in seconds.
    """

    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST
    credentials: Mapping[str, Credential] = dataclasses.field(default_factory=dict)
    redirect_hosts: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest as received: its media type, bytes and recomputed digest."""

    media_type: str
    body: bytes
    digest: str

    def json(self) -> Mapping[str, Any]:
        try:
            value = json.loads(self.body)
        except ValueError as err:
            raise RegistryError(f"manifest {self.digest} is not valid JSON") from err
        if not isinstance(value, dict):
            raise RegistryError(f"manifest {self.digest} is not a JSON object")
        return value


@dataclasses.dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _check_digest(expected: str, body: bytes, what: str) -> str:
    algorithm, _, _ = expected.partition(":")
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise RegistryError(f"{what}: unsupported digest algorithm {algorithm!r}")
    actual = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
    if actual != expected:
        raise RegistryError(
            f"{what}: the registry sent content whose digest is {actual}, not {expected}"
        )
    return actual


class Client:
    """Reads manifests and blobs of one registry host (``host[:port]``) as one identity.

    The identity is ``credential``, else the credential ``settings`` holds
    for the host, else anonymous; the tokens it earns are its own, so a
    client never lends one identity's access to another. Safe to share
    between threads. Connections are kept alive and reused
    (``connections.Pool``), so a verification costs round trips, not TLS
    handshakes; ``close`` drops the idle ones.
    """

    def __init__(
        self, host: str, settings: Settings, *, credential: Credential | None = None
    ) -> None:
        self.host = host
        self._api_host = _API_HOSTS.get(host, host)
        self._settings = settings
        self._credential = credential or settings.credentials.get(host)
        self._tokens: dict[str, str] = {}
        #: Set once the registry asked for Basic authentication: sent with every request.
        self._basic: str | None = None
        self._connections = connections.Pool(
            context=ssl.create_default_context(cafile=settings.ca_file), timeout=settings.timeout
        )

    # -- the API ---------------------------------------------------------

    def resolve(self, reference: image_references.Reference) -> str:
        """The digest ``reference`` names: its own digest, or its tag's current one."""
        if reference.digest is not None:
            return reference.digest
        tag = reference.tag or image_references.LATEST
        return self.manifest(reference.repository, tag).digest

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest at a tag or digest; a digest is checked against the bytes."""
        what = f"manifest {self.host}/{repository}:{reference}"
        response = self._get(
            repository,
            f"manifests/{reference}",
            accept=", ".join(MANIFEST_TYPES),
            limit=self._settings.max_manifest_bytes,
            what=what,
        )
        if response.status != 200:
            raise RegistryError(f"{what}: {_status(response.status)}")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if ":" in reference:
            digest = _check_digest(reference, response.body, what)
        else:
            digest = sha256(response.body)
        return Manifest(media_type=media_type, body=response.body, digest=digest)

    def find_manifest(self, repository: str, tag: str) -> Manifest | None:
        """The manifest tagged ``tag``, or ``None`` when there is no such tag."""
        try:
            return self.manifest(repository, tag)
        except _NotFoundError:
            return None

    def blob(self, repository: str, digest: str, *, limit: int) -> bytes:
        """A blob by digest, at most ``limit`` bytes, checked against its digest."""
        what = f"blob {self.host}/{repository}@{digest}"
        response = self._get(repository, f"blobs/{digest}", accept="*/*", limit=limit, what=what)
        if response.status != 200:
            raise RegistryError(f"{what}: {_status(response.status)}")
        _check_digest(digest, response.body, what)
        return response.body

    def referrers(self, repository: str, digest: str) -> list[Mapping[str, Any]] | None:
        """The OCI 1.1 referrers of ``digest``; ``None`` when the registry has no such API."""
        what = f"referrers of {self.host}/{repository}@{digest}"
        try:
            response = self._get(
                repository,
                f"referrers/{digest}",
                accept=OCI_INDEX,
                limit=self._settings.max_manifest_bytes,
                what=what,
            )
        except _NotFoundError:
            return None
        ctype = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status != 200 or ctype != OCI_INDEX:
            return None
        try:
            index = json.loads(response.body)
        except ValueError as err:
            raise RegistryError(f"{what}: not valid JSON") from err
        found = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(found, list):
            raise RegistryError(f"{what}: not an OCI image index")
        return [entry for entry in found if isinstance(entry, dict)]

    # -- HTTP ------------------------------------------------------------

    def _get(self, repository: str, tail: str, *, accept: str, limit: int, what: str) -> _Response:
        path = f"/v2/{repository}/{tail}"
        scope = f"repository:{repository}:pull"
        response = self._request(
            self._api_host, path, accept=accept, limit=limit, what=what, scope=scope
        )
        if response.status == 401:
            self._authenticate(response, scope=scope, what=what)
            response = self._request(
                self._api_host, path, accept=accept, limit=limit, what=what, scope=scope
            )
        if response.status == 401:
            raise RegistryError(
                f"{what}: access denied (401) even after authenticating as the configured user"
                if self._basic is not None
                else f"{what}: access denied (401) even after authenticating"
            )
        if response.status == 404:
            raise _NotFoundError(f"{what}: not found (404)")
        return response

    def _request(
        self,
        host: str,
        path: str,
        *,
        accept: str,
        limit: int,
        what: str,
        scope: str | None = None,
        authorization: str | None = None,
    ) -> _Response:
        for _ in range(_MAX_REDIRECTS + 1):
            headers = {"Accept": accept, "User-Agent": "bulkhead"}
            if authorization is not None:
                headers["Authorization"] = authorization
            elif scope is not None and host == self._api_host:
                if self._basic is not None:
                    headers["Authorization"] = self._basic
                elif scope in self._tokens:
                    headers["Authorization"] = f"Bearer {self._tokens[scope]}"
            response = self._once(host, path, headers=headers, limit=limit, what=what)
            if response.status not in (301, 302, 303, 307, 308):
                return response
            location = urllib.parse.urlsplit(
                urllib.parse.urljoin(f"https://{host}{path}", response.headers.get("location", ""))
            )
            target = location.netloc
            if location.scheme != "https":
                raise RegistryError(f"{what}: the registry redirected to a non-HTTPS address")
            if target != self._api_host and target not in self._settings.redirect_hosts:
                raise RegistryError(
                    f"{what}: the registry redirected to another host ({location.hostname}), "
                    "which is not allowed"
                )
            host = target
            path = location.path + (f"?{location.query}" if location.query else "")
            # Credentials never follow a redirect to another host.
            if host != self._api_host:
                authorization = None
                scope = None
        raise RegistryError(f"{what}: too many redirects")

    def _once(
        self, host: str, path: str, *, headers: Mapping[str, str], limit: int, what: str
    ) -> _Response:
        connection, reused = self._connections.take(host)
        try:
            try:
                raw = self._send(connection, path, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                # The registry closed an idle kept-alive connection: one fresh try.
                connection.close()
                connection = self._connections.new(host)
                raw = self._send(connection, path, headers)
            length = raw.getheader("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise RegistryError(f"{what}: {length} bytes is over the limit of {limit}")
            body = raw.read(limit + 1)
            if len(body) > limit:
                raise RegistryError(f"{what}: more than the limit of {limit} bytes")
            response = _Response(
                status=raw.status,
                headers={k.lower(): v for k, v in raw.getheaders()},
                body=body,
            )
        except ssl.SSLCertVerificationError as err:
            connection.close()
            raise RegistryError(
                f"{what}: the TLS certificate of {host} is not trusted ({err.verify_message}); "
                "set the registry CA bundle for a private registry"
            ) from err
        except TimeoutError as err:
            connection.close()
            raise RegistryError(
                f"{what}: {host} did not answer within {self._settings.timeout:g}s"
            ) from err
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            raise RegistryError(f"{what}: registry {host} unreachable ({_reason(err)})") from err
        except BaseException:
            connection.close()
            raise
        self._connections.give_back(host, connection, raw)
        return response

    @staticmethod
    def _send(
        connection: http.client.HTTPSConnection, path: str, headers: Mapping[str, str]
    ) -> http.client.HTTPResponse:
        connection.request("GET", path, headers=dict(headers))
        return connection.getresponse()

    def close(self) -> None:
        """Close every idle connection (the client stays usable)."""
        self._connections.close()

    def _authenticate(self, response: _Response, *, scope: str, what: str) -> None:
        challenge = response.headers.get("www-authenticate", "")
        scheme, _, params_text = challenge.partition(" ")
        credential = self._credential
        if scheme.lower() == "basic":
            if credential is None:
                raise RegistryError(
                    f"{what}: access denied (401): the registry requires credentials "
                    "(Basic authentication) and none are set for it; give the Pod an "
                    "imagePullSecret for this registry, or configure registry credentials"
                )
            self._basic = _basic(credential)
            return
        if scheme.lower() != "bearer":
            raise RegistryError(f"{what}: access denied (401) with no usable challenge")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        realm = urllib.parse.urlsplit(params.get("realm", ""))
        if realm.scheme != "https" or not realm.netloc:
            raise RegistryError(f"{what}: the token service address is not HTTPS")
        if realm.netloc != self._api_host and realm.netloc not in self._settings.redirect_hosts:
            raise RegistryError(
                f"{what}: the token service is on another host ({realm.hostname}), "
                "which is not allowed"
            )
        query = {"scope": scope}
        if "service" in params:
            query["service"] = params["service"]
        path = f"{realm.path or '/'}?{urllib.parse.urlencode(query)}"
        authorization = None if credential is None else _basic(credential)
        answer = self._request(
            realm.netloc,
            path,
            accept="application/json",
            limit=_MAX_TOKEN,
            what=f"{what}: token",
            authorization=authorization,
        )
        if answer.status != 200:
            raise RegistryError(f"{what}: the token service refused ({_status(answer.status)})")
        try:
            body = json.loads(answer.body)
        except ValueError as err:
            raise RegistryError(f"{what}: the token service answered no JSON") from err
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{what}: the token service answered no token")
        self._tokens[scope] = token


def _basic(credential: Credential) -> str:
    pair = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


class _NotFoundError(RegistryError):
    """404: the manifest, tag or API does not exist."""


def _status(status: int) -> str:
    reason = http.client.responses.get(status, "unexpected status")
    return f"HTTP {status} {reason}"


def _reason(err: BaseException) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, socket.gaierror):
        return "name not resolved"
    return type(err).__name__
