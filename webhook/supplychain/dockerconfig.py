"""Registry credentials from a Docker config file (``.dockerconfigjson``). Reads that file.

The format of a ``kubernetes.io/dockerconfigjson`` Secret and of
``~/.docker/config.json``::

    {"auths": {"registry.example.com": {"auth": "<base64 user:password>"}}}

(``username`` and ``password`` may be given instead of ``auth``). The older
``kubernetes.io/dockercfg`` format (``.dockercfg``) is the ``auths`` object
alone (``parse(text, legacy=True)``). Keys may be
written as URLs (``https://index.docker.io/v1/``); they are reduced to the
registry host the image references name (``docker.io`` for Docker Hub).
``load`` reads the file and ``parse`` (pure) returns a ``registry.Credential``
by host; ``DockerConfigError`` says what is wrong and never quotes a secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Mapping
from typing import Final

from webhook.rules import image_references
from webhook.supplychain import registry

#: Names Docker Hub's credentials are stored under, all meaning ``docker.io`` references.
_DOCKER_HUB_HOSTS: Final = frozenset({"index.docker.io", "registry-1.docker.io", "docker.io"})


class DockerConfigError(ValueError):
    """The credentials file cannot be used; the message names the entry, not its secret."""


def _host(key: str) -> str:
    text = key.strip()
    netloc = urllib.parse.urlsplit(text).netloc if "://" in text else text.split("/")[0]
    netloc = netloc.lower()
    return image_references.DOCKER_HUB if netloc in _DOCKER_HUB_HOSTS else netloc


def _credential(host: str, entry: object) -> registry.Credential:
    if not isinstance(entry, Mapping):
        raise DockerConfigError(f"auths[{host!r}] must be an object")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            pair = base64.b64decode(auth, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as err:
            raise DockerConfigError(f"auths[{host!r}].auth is not base64 'user:password'") from err
        username, colon, password = pair.partition(":")
        if not colon or not username:
            raise DockerConfigError(f"auths[{host!r}].auth is not base64 'user:password'")
        return registry.Credential(username, password)
    user, secret = entry.get("username"), entry.get("password")
    if isinstance(user, str) and user and isinstance(secret, str):
        return registry.Credential(user, secret)
    raise DockerConfigError(f"auths[{host!r}] has neither 'auth' nor 'username' and 'password'")


def parse(text: str, *, legacy: bool = False) -> dict[str, registry.Credential]:
    """The credentials of a Docker config file (``legacy``: a ``.dockercfg``), by registry host."""
    try:
        document = json.loads(text)
    except ValueError as err:
        raise DockerConfigError("not valid JSON") from err
    if legacy:
        auths = document if isinstance(document, Mapping) else None
    else:
        auths = document.get("auths") if isinstance(document, Mapping) else None
    if not isinstance(auths, Mapping):
        raise DockerConfigError("is not a JSON object" if legacy else "has no 'auths' object")
    return {_host(str(key)): _credential(str(key), entry) for key, entry in auths.items()}


def load(path: str) -> dict[str, registry.Credential]:
    """The credentials in the Docker config file at ``path``."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read(1024 * 1024)
    except (OSError, UnicodeDecodeError) as err:
        raise DockerConfigError(f"cannot read {path} ({type(err).__name__})") from err
    try:
        return parse(text)
    except DockerConfigError as err:
        raise DockerConfigError(f"{path}: {err}") from err
