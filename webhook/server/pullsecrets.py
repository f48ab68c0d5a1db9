"""The cluster's image pull secrets and ServiceAccounts, listed and watched. Network I/O.

With ``--registry-pull-secrets`` a worker verifies a Pod's images with the
credentials the Pod itself may use: the Secrets its ``imagePullSecrets``
name, or, when it names none, those of its ServiceAccount (``default`` when
unset), all in the Pod's own namespace. ``PullSecretCache.access`` turns an
``admission.PullSecrets`` into a ``verifier.Access`` owned by that
namespace, so credentials of one namespace never serve another's Pod.

Three ``kube.Reflector`` threads keep the cache, each bounded to what it
needs:

* Secrets of type ``kubernetes.io/dockerconfigjson`` and of type
  ``kubernetes.io/dockercfg``, one field-selected list and watch each
  (``fieldSelector=type=...``: the apiserver sends no other Secret). Each
  is parsed as it arrives and only its credentials by registry host are
  kept (or, for one that cannot be parsed, the reason, never its content).
* ServiceAccounts, of which only the ``imagePullSecrets`` names are kept.

Before the first lists arrive, and for a Secret that is missing or cannot be
parsed, there are no credentials: the registry is reached as without the
feature (anonymously, or with ``--registry-credentials-file``), and one that
requires credentials denies, saying so. Nothing here logs a secret value.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Mapping, Sequence
from typing import Final

from webhook import admission, kube
from webhook.supplychain import dockerconfig, registry, verifier

DOCKER_CONFIG_JSON: Final = "kubernetes.io/dockerconfigjson"
DOCKER_CFG: Final = "kubernetes.io/dockercfg"
#: The data key each Secret type keeps its Docker config under, and whether it is the old format.
_KEYS: Final = {DOCKER_CONFIG_JSON: (".dockerconfigjson", False), DOCKER_CFG: (".dockercfg", True)}

SECRETS: Final = tuple(
    kube.Resource(f"Secret({kind})", "/api/v1/secrets", query=(("fieldSelector", f"type={kind}"),))
    for kind in (DOCKER_CONFIG_JSON, DOCKER_CFG)
)
SERVICE_ACCOUNTS: Final = kube.Resource("ServiceAccount", "/api/v1/serviceaccounts")
_BACKOFF: Final = kube.Backoff()

#: (namespace, name)
_Key = tuple[str, str]


def _key(item: Mapping[str, object]) -> _Key:
    metadata = item.get("metadata")
    if not isinstance(metadata, Mapping):
        return ("", "")
    return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _slim_secret(item: kube.JsonObject) -> kube.JsonObject:
    """Only the name and the Docker config of a pull Secret (other keys are dropped at once)."""
    kind = str(item.get("type") or "")
    data = item.get("data")
    key, _ = _KEYS.get(kind, ("", False))
    value = data.get(key) if isinstance(data, Mapping) else None
    namespace, name = _key(item)
    return {
        "metadata": {"namespace": namespace, "name": name},
        "type": kind,
        "config": value if isinstance(value, str) else None,
    }


def _slim_account(item: kube.JsonObject) -> kube.JsonObject:
    """Only the name and the ``imagePullSecrets`` names of a ServiceAccount."""
    namespace, name = _key(item)
    listed = item.get("imagePullSecrets")
    names = [
        entry["name"]
        for entry in (listed if isinstance(listed, list) else ())
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)
    ]
    return {"metadata": {"namespace": namespace, "name": name}, "pullSecrets": names}


def credentials(item: Mapping[str, object]) -> dict[str, registry.Credential] | str:
    """The credentials by registry host of a slimmed pull Secret, or why it cannot be used."""
    kind = str(item.get("type") or "")
    key, legacy = _KEYS.get(kind, ("", False))
    config = item.get("config")
    if not key or not isinstance(config, str):
        return f"has no {key or 'Docker config'} key"
    try:
        text = base64.b64decode(config, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return f"{key} is not base64 UTF-8"
    try:
        return dockerconfig.parse(text, legacy=legacy)
    except dockerconfig.DockerConfigError as err:
        return f"{key}: {err}"


class PullSecretCache(kube.Reflected):
    """Pull Secrets' credentials and ServiceAccounts' pull-secret names, kept current."""

    def __init__(
        self,
        *,
        api: kube.Api,
        backoff: kube.Backoff = _BACKOFF,
        watch_seconds: int = kube.WATCH_SECONDS,
    ) -> None:
        self._lock = threading.Lock()
        self._listed: set[str] = set()
        self.ready_event = threading.Event()
        #: Secret kind -> (namespace, name) -> credentials by host, or why they cannot be used
        self._secrets: dict[str, dict[_Key, dict[str, registry.Credential] | str]] = {
            resource.kind: {} for resource in SECRETS
        }
        self._accounts: dict[_Key, tuple[str, ...]] = {}
        self.reflectors = tuple(
            kube.Reflector(
                api=api,
                resource=resource,
                handler=self,
                backoff=backoff,
                watch_seconds=watch_seconds,
                slim=_slim_account if resource is SERVICE_ACCOUNTS else _slim_secret,
            )
            for resource in (*SECRETS, SERVICE_ACCOUNTS)
        )

    @property
    def sizes(self) -> Mapping[str, int]:
        """Objects held, by resource kind (for the memory measurement)."""
        with self._lock:
            found = {kind: len(held) for kind, held in self._secrets.items()}
            found[SERVICE_ACCOUNTS.kind] = len(self._accounts)
            return found

    def access(self, pull: admission.PullSecrets) -> verifier.Access:
        """The credentials a pod spec may use, owned by its namespace.

        The pod spec's ``imagePullSecrets`` in order, else its
        ServiceAccount's; for a host several of them hold, the first one
        wins. Secrets missing or unusable are passed over (as the kubelet does).
        """
        with self._lock:
            names = pull.names or self._accounts.get((pull.namespace, pull.service_account), ())
            found: dict[str, registry.Credential] = {}
            for name in names:
                for held in self._secrets.values():
                    entry = held.get((pull.namespace, name))
                    if isinstance(entry, dict):
                        for host, credential in entry.items():
                            found.setdefault(host, credential)
        return verifier.Access(owner=pull.namespace, credentials=found)

    # kube.Handler ------------------------------------------------------------------

    def listed(self, resource: kube.Resource, items: Sequence[kube.JsonObject]) -> None:
        with self._lock:
            if resource is SERVICE_ACCOUNTS:
                self._accounts = {_key(item): _names(item) for item in items}
            else:
                self._secrets[resource.kind] = {_key(item): credentials(item) for item in items}
            self._listed.add(resource.kind)
            if len(self._listed) == len(self.reflectors):
                self.ready_event.set()

    def changed(self, resource: kube.Resource, event: str, item: kube.JsonObject) -> None:
        key = _key(item)
        with self._lock:
            if resource is SERVICE_ACCOUNTS:
                if event == "DELETED":
                    self._accounts.pop(key, None)
                else:
                    self._accounts[key] = _names(item)
            elif event == "DELETED":
                self._secrets[resource.kind].pop(key, None)
            else:
                self._secrets[resource.kind][key] = credentials(item)

    def failed(self, resource: kube.Resource, error: str) -> None:
        """Nothing to do: the reflector logs and re-lists; the last list stays in use."""
        del resource, error


def _names(item: Mapping[str, object]) -> tuple[str, ...]:
    names = item.get("pullSecrets")
    return tuple(str(n) for n in names) if isinstance(names, list) else ()
