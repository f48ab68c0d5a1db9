"""Talking to the API server: credentials and a typed JSON transport. Network I/O.

``client_configuration`` finds the credentials (an explicit kubeconfig, else
the in-cluster service account when running in a pod, else the default
kubeconfig); ``Api`` sends JSON requests and reads watch streams over one
``kubernetes.client.ApiClient`` connection pool; every refusal is an
``ApiError`` (``status`` 0 when the server could not be reached).
``credentials`` hands the same login to a client that brings its own
transport (kopf, in the operator).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Protocol

import kubernetes.client
import kubernetes.config
import urllib3

#: How long one watch request stays open before the server ends it (and we resume).
WATCH_SECONDS: Final = 240
#: How long to wait for a connection or for a non-watch answer.
REQUEST_SECONDS: Final = 30.0

JsonObject = dict[str, Any]
#: The client's settings (host, TLS, credentials), as ``client_configuration`` loads them.
Configuration = kubernetes.client.Configuration


class _KubeConfigLoader(Protocol):
    def __call__(
        self,
        *,
        config_file: str | None,
        context: str | None,
        client_configuration: Configuration,
        persist_config: bool,
    ) -> None: ...


class _InClusterLoader(Protocol):
    def __call__(self, *, client_configuration: Configuration) -> None: ...


# The client's loaders are untyped; these are the signatures this module relies on.
_load_kube_config: _KubeConfigLoader = kubernetes.config.load_kube_config
_load_incluster_config: _InClusterLoader = kubernetes.config.load_incluster_config


class ConfigError(RuntimeError):
    """No usable credentials for the cluster."""


def client_configuration(
    *, kubeconfig: str | None = None, context: str | None = None
) -> Configuration:
    """Credentials for the API server.

    An explicit ``kubeconfig`` wins; otherwise the in-cluster service account
    when running in a pod (``KUBERNETES_SERVICE_HOST`` set), else the
    default kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``).
    """
    configuration = Configuration()
    try:
        if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            _load_incluster_config(client_configuration=configuration)
        else:
            _load_kube_config(
                config_file=kubeconfig,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (kubernetes.config.ConfigException, OSError) as err:
        raise ConfigError(f"cannot load cluster credentials: {err}") from err
    return configuration


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    """Where the API server is and how to log in to it, for a client with its own transport."""

    server: str
    ca_path: str | None
    insecure: bool
    #: The ``Authorization`` scheme (``Bearer``), when the token came with one.
    scheme: str | None
    token: str | None = dataclasses.field(repr=False)
    certificate_path: str | None
    private_key_path: str | None


def credentials(configuration: Configuration) -> Credentials:
    """The login ``configuration`` holds: server, CA, client certificate or token."""
    header = configuration.get_api_key_with_prefix(
        "BearerToken"
    ) or configuration.get_api_key_with_prefix("authorization")
    scheme: str | None = None
    token: str | None = None
    if header:
        parts = str(header).split(" ", 1)
        scheme, token = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    return Credentials(
        server=str(configuration.host),
        ca_path=configuration.ssl_ca_cert or None,
        insecure=not configuration.verify_ssl,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file or None,
        private_key_path=configuration.key_file or None,
    )


class ApiError(RuntimeError):
    """The API server refused a request (or could not be reached: ``status`` 0)."""

    def __init__(self, status: int, reason: str, message: str = "") -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message


def _error_from(status: int, reason: str, data: bytes) -> ApiError:
    message = ""
    reason_word = reason
    try:
        body = json.loads(data)
    except ValueError:
        message = data[:500].decode("utf-8", errors="replace")
    else:
        if isinstance(body, dict):
            message = str(body.get("message", ""))
            reason_word = str(body.get("reason") or reason)
    return ApiError(status, reason_word, message)


class Api:
    """JSON requests and watch streams against the API server, with one connection pool."""

    def __init__(self, configuration: Configuration) -> None:
        self._client = kubernetes.client.ApiClient(configuration)

    @property
    def host(self) -> str:
        return str(self._client.configuration.host)

    def close(self) -> None:
        close: Callable[[], None] = self._client.close  # untyped in the client
        close()

    def _open(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float] = REQUEST_SECONDS,
    ) -> urllib3.BaseHTTPResponse:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        method, url, headers, payload, _ = self._client.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._client.call_api(
                method, url, header_params=headers, body=payload, _request_timeout=timeout
            )
        except kubernetes.client.ApiException as err:
            raise ApiError(int(err.status or 0), str(err.reason or "request failed")) from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise ApiError(0, type(err).__name__, str(err)) from err
        raw = response.response
        if not isinstance(raw, urllib3.BaseHTTPResponse):
            raise ApiError(0, "UnexpectedResponse", type(raw).__name__)
        if not 200 <= raw.status <= 299:
            data = raw.read()
            raw.release_conn()
            raise _error_from(raw.status, str(raw.reason or ""), data)
        return raw

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object = None,
        content_type: str = "application/json",
        timeout: float = REQUEST_SECONDS,
    ) -> JsonObject:
        """One request; the decoded JSON object answered. ``ApiError`` for any refusal."""
        raw = self._open(
            method, path, query=query, body=body, content_type=content_type, timeout=timeout
        )
        try:
            data = raw.read()
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise ApiError(0, type(err).__name__, str(err)) from err
        finally:
            raw.release_conn()
        try:
            decoded = json.loads(data)
        except ValueError as err:
            raise ApiError(0, "InvalidJSON", str(err)) from err
        if not isinstance(decoded, dict):
            raise ApiError(0, "InvalidJSON", "the answer is not a JSON object")
        return decoded

    def watch(
        self,
        path: str,
        *,
        resource_version: str,
        query: Sequence[tuple[str, str]] = (),
        seconds: int = WATCH_SECONDS,
        opened: Callable[[urllib3.BaseHTTPResponse], None] | None = None,
    ) -> Iterator[JsonObject]:
        """The watch events (``{"type", "object"}``) from ``resource_version`` on, for ``seconds``.

        ``opened`` receives the live response, so another thread can
        ``shutdown()`` it to end the watch early.
        """
        query = [
            *query,
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(seconds)),
        ]
        raw = self._open("GET", path, query=query, timeout=(REQUEST_SECONDS, seconds + 30.0))
        if opened is not None:
            opened(raw)
        try:
            pending = b""
            for chunk in raw.stream(64 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield _event(line)
            if pending.strip():
                yield _event(pending)
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise ApiError(0, type(err).__name__, str(err)) from err
        finally:
            raw.release_conn()


def _event(line: bytes) -> JsonObject:
    try:
        decoded = json.loads(line)
    except ValueError as err:
        raise ApiError(0, "InvalidJSON", f"watch event: {err}") from err
    if not isinstance(decoded, dict) or not isinstance(decoded.get("object"), dict):
        raise ApiError(0, "InvalidJSON", "watch event without an object")
    return decoded
