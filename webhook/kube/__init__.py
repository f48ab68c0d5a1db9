"""Kubernetes API I/O: the one package that imports the ``kubernetes`` client.

``transport`` finds the credentials and sends JSON requests and watch
streams; ``reflector`` keeps up with one kind of object (list, then watch,
re-list on trouble). Everything else that talks to the API server (the
policy cache, the operator, the audit, the server) goes through these; the
import contract in ``.importlinter`` keeps it so.
"""

from webhook.kube.reflector import (
    Backoff,
    GoneError,
    Handler,
    Reflected,
    Reflector,
    Resource,
    resource_version,
)
from webhook.kube.transport import (
    REQUEST_SECONDS,
    WATCH_SECONDS,
    Api,
    ApiError,
    ConfigError,
    Configuration,
    Credentials,
    JsonObject,
    client_configuration,
    credentials,
)

__all__ = [
    "REQUEST_SECONDS",
    "WATCH_SECONDS",
    "Api",
    "ApiError",
    "Backoff",
    "ConfigError",
    "Configuration",
    "Credentials",
    "GoneError",
    "Handler",
    "JsonObject",
    "Reflected",
    "Reflector",
    "Resource",
    "client_configuration",
    "credentials",
    "resource_version",
]
