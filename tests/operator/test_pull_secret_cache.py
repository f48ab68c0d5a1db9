"""The webhook's pull-secret cache against the real apiserver, as the webhook's ServiceAccount.

The cache runs with a token of ``bulkhead-webhook`` bound by the RBAC the
chart renders with ``webhook.registries.pullSecrets`` (and by nothing more),
so a verb it lacks fails here. Pull Secrets and ServiceAccounts applied with
kubectl reach it; other Secrets never do (the field selector), and one
namespace's credentials never serve another's.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator

import pytest

from devcluster import installation
from tests.operator import conftest
from webhook import admission, kube
from webhook.server import pullsecrets
from webhook.supplychain import verifier

pytestmark = pytest.mark.cluster

#: Generous: the watch delivers within milliseconds, but the machine may be busy.
_WITHIN = 30.0
HOST = "registry.example.com:5000"


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _secret(name: str, kind: str, config: object) -> dict[str, object]:
    key = ".dockercfg" if kind == pullsecrets.DOCKER_CFG else ".dockerconfigjson"
    data = base64.b64encode(json.dumps(config).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": kind,
        "data": {key: data},
    }


@pytest.fixture
def held(install: installation.Install) -> Iterator[pullsecrets.PullSecretCache]:
    with conftest.chart_rbac(
        install,
        values={"webhook": {"registries": {"pullSecrets": True}}},
        name="bulkhead-webhook-pull-secrets",
    ):
        api = kube.Api(kube.client_configuration(kubeconfig=str(install.webhook_kubeconfig)))
        cache = pullsecrets.PullSecretCache(api=api, backoff=kube.Backoff(first=0.1, limit=1.0))
        cache.start()
        try:
            assert cache.wait_ready(_WITHIN), "the cache never loaded its first lists"
            yield cache
        finally:
            cache.stop()
            api.close()


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + _WITHIN
    while not condition():
        assert time.monotonic() < deadline, f"not within {_WITHIN}s"
        time.sleep(0.1)


def _access(
    cache: pullsecrets.PullSecretCache,
    namespace: str,
    *names: str,
    account: str = "default",
) -> verifier.Access:
    return cache.access(
        admission.PullSecrets(namespace=namespace, names=names, service_account=account)
    )


def test_pull_secrets_of_both_types_and_service_accounts_are_followed(
    install: installation.Install, held: pullsecrets.PullSecretCache
) -> None:
    cp = install.cp
    with cp.namespace() as namespace, cp.namespace() as elsewhere:
        cp.apply(
            _secret(
                "new",
                pullsecrets.DOCKER_CONFIG_JSON,
                {"auths": {f"https://{HOST}/v2/": {"auth": _auth("ci", "one")}}},
            ),
            _secret("old", pullsecrets.DOCKER_CFG, {HOST: {"auth": _auth("legacy", "two")}}),
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "builder"},
                "imagePullSecrets": [{"name": "old"}],
            },
            namespace=namespace,
        )
        _until(lambda: HOST in _access(held, namespace, "new").credentials)
        found = _access(held, namespace, "new")
        assert found.owner == namespace
        assert found.credentials[HOST].username == "ci"
        # The ServiceAccount's pull secrets count when the pod spec names none.
        _until(lambda: HOST in _access(held, namespace, account="builder").credentials)
        assert _access(held, namespace, account="builder").credentials[HOST].username == "legacy"
        # ... and not when it names some.
        assert _access(held, namespace, "new", account="builder").credentials[HOST].username == "ci"
        # Another namespace naming the same Secret gets nothing.
        assert _access(held, elsewhere, "new").credentials == {}
        # A deleted Secret leaves.
        cp.kubectl("delete", "secret", "new", "-n", namespace)
        _until(lambda: _access(held, namespace, "new").credentials == {})


def test_other_secrets_never_reach_the_cache(
    install: installation.Install, held: pullsecrets.PullSecretCache
) -> None:
    cp = install.cp
    with cp.namespace() as namespace:
        before = held.sizes
        cp.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "opaque"},
                "type": "Opaque",
                "stringData": {".dockerconfigjson": json.dumps({"auths": {}})},
            },
            _secret(
                "marker",
                pullsecrets.DOCKER_CONFIG_JSON,
                {"auths": {HOST: {"auth": _auth("m", "k")}}},
            ),
            namespace=namespace,
        )
        # Both are in one watch's order: once the pull Secret applied after the Opaque one has
        # arrived, the Opaque one would have too, had the field selector let it through.
        _until(lambda: HOST in _access(held, namespace, "marker").credentials)
        secret_kind = pullsecrets.SECRETS[0].kind
        assert held.sizes[secret_kind] == before[secret_kind] + 1
        assert held.sizes[pullsecrets.SECRETS[1].kind] == before[pullsecrets.SECRETS[1].kind]


def test_an_unusable_pull_secret_gives_no_credentials(
    install: installation.Install, held: pullsecrets.PullSecretCache
) -> None:
    cp = install.cp
    with cp.namespace() as namespace:
        cp.apply(
            _secret("broken", pullsecrets.DOCKER_CONFIG_JSON, {"no-auths": True}),
            _secret(
                "good", pullsecrets.DOCKER_CONFIG_JSON, {"auths": {HOST: {"auth": _auth("a", "b")}}}
            ),
            namespace=namespace,
        )
        _until(lambda: HOST in _access(held, namespace, "good").credentials)
        assert _access(held, namespace, "broken").credentials == {}
        # Passed over, like the kubelet: the next one named still counts.
        assert _access(held, namespace, "broken", "good").credentials[HOST].username == "a"
