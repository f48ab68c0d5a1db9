"""The webhook's TLS material in the cluster: Secrets, caBundle. Network I/O (the apiserver).

``Manager.reconcile()`` is one idempotent pass:

1. read the CA Secret (``ca.crt``, ``ca.key``; only the operator reads it)
   and the serving Secret (``kubernetes.io/tls``: ``tls.crt``, ``tls.key``
   and ``ca.crt``, the trust bundle), the named
   ``ValidatingWebhookConfiguration``'s ``caBundle``, and, when probing is
   on, the certificate each webhook endpoint presents (``probing.probe``);
2. ``rotation.plan`` what they should hold;
3. write the CA Secret, then the serving Secret, then patch ``caBundle``
   into every webhook of the configuration (never creating one). Secrets
   are replaced with their ``resourceVersion`` and the configuration is
   JSON-patched with a ``test`` on it, so a concurrent writer (a second
   replica, a human) makes this pass fail with a conflict instead of
   overwriting, and the next pass starts from what is really there.

An interrupted pass leaves a state the next pass completes: the plan never
signs a serving certificate with a CA the configuration does not yet trust.

``run(manager, interval=..., stop=...)`` repeats passes until ``stop`` is
set: after a success at the next moment something falls due (capped at
``interval``), after a failure with a backoff. Each issuance or retirement
is logged and posted as an Event on the serving Secret.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from webhook import kube
from webhook.operator import metrics, pki, probing, rotation, settings

_LOG: Final = logging.getLogger("bulkhead.operator.tls")
_WEBHOOKS_PATH: Final = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "bulkhead-operator"}
#: Secret types: the CA Secret is plain, the serving Secret is a TLS Secret.
OPAQUE: Final = "Opaque"
TLS_TYPE: Final = "kubernetes.io/tls"

JsonObject = dict[str, Any]
Clock = Callable[[], datetime.datetime]


class ConflictError(RuntimeError):
    """Someone else changed an object this pass read; the next pass starts over."""


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _decode(data: Mapping[str, Any] | None, key: str) -> bytes | None:
    if not isinstance(data, Mapping) or not isinstance(data.get(key), str):
        return None
    try:
        return base64.b64decode(data[key], validate=True)
    except ValueError:
        return None


def _encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _pair(secret: JsonObject | None, cert_key: str, key_key: str) -> pki.KeyPair | None:
    if secret is None:
        return None
    data = secret.get("data")
    cert_pem, key_pem = _decode(data, cert_key), _decode(data, key_key)
    if cert_pem is None or key_pem is None:
        return None
    try:
        return pki.KeyPair.load(cert_pem, key_pem)
    except pki.PkiError as err:
        _LOG.warning("Secret %s holds no usable %s: %s", _name(secret), cert_key, err)
        return None


def _name(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata")
    return str(metadata.get("name")) if isinstance(metadata, Mapping) else ""


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """One pass: the plan carried out and what was written."""

    plan: rotation.Plan
    wrote_ca: bool
    wrote_serving: bool
    patched_webhooks: int


class Manager:
    """Reconciles the CA Secret, the serving Secret and the webhook configuration's caBundle."""

    def __init__(
        self,
        *,
        api: kube.Api,
        config: settings.Settings,
        metrics_: metrics.Metrics | None = None,
        clock: Clock = _utc_now,
        prober: Callable[..., pki.Certificate | None] = probing.probe,
    ) -> None:
        self._api = api
        self._settings = config
        self._metrics = metrics_
        self._clock = clock
        self._probe = prober
        self.policy = rotation.Policy(
            dns_names=config.dns_names,
            ip_addresses=config.extra_ip_addresses,
            ca_lifetime=config.ca_lifetime,
            cert_lifetime=config.cert_lifetime,
            overlap=config.rotation_overlap,
            skew=config.effective_skew,
        )
        self.last: Outcome | None = None
        self.last_error: str | None = None
        self._missing_configuration_logged = False

    # reading ---------------------------------------------------------------------------

    def _secret_path(self, name: str | None = None) -> str:
        base = f"/api/v1/namespaces/{self._settings.namespace}/secrets"
        return base if name is None else f"{base}/{name}"

    def _get(self, path: str) -> JsonObject | None:
        try:
            return self._api.request("GET", path)
        except kube.ApiError as err:
            if err.status == 404:
                return None
            raise

    def _configuration(self) -> JsonObject | None:
        name = self._settings.webhook_configuration
        found = self._get(f"{_WEBHOOKS_PATH}/{name}")
        if found is None and not self._missing_configuration_logged:
            _LOG.warning(
                "ValidatingWebhookConfiguration %s not found: caBundle not injected "
                "(the operator never creates it)",
                name,
            )
        self._missing_configuration_logged = found is None
        return found

    @staticmethod
    def _published(configuration: JsonObject | None) -> tuple[pki.Certificate, ...] | None:
        """The CAs every webhook of the configuration trusts (``None``: no configuration)."""
        if configuration is None:
            return None
        webhooks = configuration.get("webhooks")
        if not isinstance(webhooks, list) or not webhooks:
            return None
        common: dict[str, pki.Certificate] | None = None
        for webhook in webhooks:
            client = webhook.get("clientConfig") if isinstance(webhook, dict) else None
            pem = _decode(client, "caBundle") or b""
            found = {c.fingerprint: c for c in pki.split_bundle(pem)}
            common = found if common is None else {k: v for k, v in common.items() if k in found}
        return tuple((common or {}).values())

    def _served(self) -> tuple[pki.Certificate | None, ...] | None:
        s = self._settings
        if not s.probe_service and not s.probe_endpoints:
            return None
        server_name = f"{s.service_name}.{s.namespace}.svc"
        results: list[pki.Certificate | None] = []
        if s.probe_service:
            try:
                slices = self._api.request(
                    "GET",
                    f"/apis/discovery.k8s.io/v1/namespaces/{s.namespace}/endpointslices",
                    query=(("labelSelector", f"{probing.SERVICE_NAME_LABEL}={s.service_name}"),),
                )
            except kube.ApiError as err:
                _LOG.info("could not list the endpoints of %s: %s", s.service_name, err)
                results.append(None)  # unknown: an old CA stays
            else:
                for endpoint in probing.addresses(slices.get("items") or ()):
                    results.append(self._probe(endpoint, server_name=server_name))
        for endpoint in s.probe_endpoints:
            for _ in range(probing.PROBE_ATTEMPTS):
                results.append(self._probe(endpoint, server_name=server_name))
        return tuple(results)

    # writing ---------------------------------------------------------------------------

    def _write_secret(
        self,
        existing: JsonObject | None,
        *,
        name: str,
        secret_type: str,
        data: Mapping[str, bytes],
    ) -> None:
        encoded = {key: _encode(value) for key, value in data.items()}
        if existing is None:
            body: JsonObject = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "namespace": self._settings.namespace,
                    "labels": dict(MANAGED_BY),
                },
                "type": secret_type,
                "data": encoded,
            }
            self._send("POST", self._secret_path(), body)
            return
        body = dict(existing)
        kept = existing.get("data") if isinstance(existing.get("data"), dict) else {}
        body["data"] = {**(kept or {}), **encoded}
        if body.get("type") not in (None, secret_type):
            raise ConflictError(
                f"Secret {name} has type {body.get('type')}, not {secret_type}: "
                "delete it or choose another name"
            )
        self._send("PUT", self._secret_path(name), body)

    def _send(
        self, method: str, path: str, body: object, content_type: str = "application/json"
    ) -> None:
        try:
            self._api.request(method, path, body=body, content_type=content_type)
        except kube.ApiError as err:
            if err.status == 409 or (err.status == 422 and "test" in err.message.lower()):
                raise ConflictError(f"{method} {path}: {err}") from err
            raise

    def _patch_configuration(self, configuration: JsonObject, bundle_pem: bytes) -> int:
        wanted = _encode(bundle_pem)
        metadata = configuration.get("metadata") or {}
        operations: list[JsonObject] = [
            {
                "op": "test",
                "path": "/metadata/resourceVersion",
                "value": metadata.get("resourceVersion"),
            }
        ]
        webhooks = configuration.get("webhooks") or []
        for index, webhook in enumerate(webhooks):
            client = webhook.get("clientConfig") or {}
            if client.get("caBundle") != wanted:
                operations.append(
                    {
                        "op": "add",
                        "path": f"/webhooks/{index}/clientConfig/caBundle",
                        "value": wanted,
                    }
                )
        if len(operations) == 1:
            return 0
        self._send(
            "PATCH",
            f"{_WEBHOOKS_PATH}/{self._settings.webhook_configuration}",
            operations,
            content_type="application/json-patch+json",
        )
        return len(operations) - 1

    def _event(self, secret: str, *, reason: str, message: str) -> None:
        now = self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{secret}.", "namespace": self._settings.namespace},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Secret",
                "name": secret,
                "namespace": self._settings.namespace,
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Normal",
            "source": {"component": "bulkhead-operator"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self._api.request(
                "POST", f"/api/v1/namespaces/{self._settings.namespace}/events", body=body
            )
        except kube.ApiError as err:
            _LOG.info("could not post event %s: %s", reason, err)

    # the pass --------------------------------------------------------------------------

    def reconcile(self) -> Outcome:
        """One pass; raises ``kube.ApiError`` or ``ConflictError`` (retry later) on failure."""
        s = self._settings
        ca_secret = self._get(self._secret_path(s.ca_secret))
        tls_secret = self._get(self._secret_path(s.tls_secret))
        configuration = self._configuration() if s.webhook_configuration else None
        bundle = pki.split_bundle(_decode((tls_secret or {}).get("data"), "ca.crt") or b"")
        current = rotation.Current(
            ca=_pair(ca_secret, "ca.crt", "ca.key"),
            serving=_pair(tls_secret, "tls.crt", "tls.key"),
            bundle=tuple(bundle),
            served=self._served(),
            published=self._published(configuration),
        )
        now = self._clock()
        plan = rotation.plan(current, self.policy, now=now)
        wrote_ca = wrote_serving = False
        if plan.ca_issued or current.ca is None:
            self._write_secret(
                ca_secret,
                name=s.ca_secret,
                secret_type=OPAQUE,
                data={"ca.crt": plan.ca.certificate.pem, "ca.key": plan.ca.key_pem},
            )
            wrote_ca = True
        old_bundle = pki.join_bundle(bundle)
        if plan.serving_issued or current.serving is None or old_bundle != plan.bundle_pem:
            self._write_secret(
                tls_secret,
                name=s.tls_secret,
                secret_type=TLS_TYPE,
                data={
                    "tls.crt": plan.serving.certificate.pem,
                    "tls.key": plan.serving.key_pem,
                    "ca.crt": plan.bundle_pem,
                },
            )
            wrote_serving = True
        patched = 0
        if configuration is not None:
            patched = self._patch_configuration(configuration, plan.bundle_pem)
        for reason in plan.reasons:
            _LOG.info("%s", reason)
            self._event(s.tls_secret, reason="CertificateRotation", message=reason)
        if patched:
            _LOG.info(
                "caBundle of %s updated (%d CA%s)",
                s.webhook_configuration,
                len(plan.bundle),
                "" if len(plan.bundle) == 1 else "s",
            )
        if self._metrics is not None:
            self._metrics.observe(plan, now=now)
        outcome = Outcome(
            plan=plan, wrote_ca=wrote_ca, wrote_serving=wrote_serving, patched_webhooks=patched
        )
        self.last, self.last_error = outcome, None
        return outcome

    def health(self) -> dict[str, Any]:
        """For kopf's liveness probe: the last pass, the certificates' expiry."""
        if self.last is None:
            return {"reconciled": False, "error": self.last_error}
        plan = self.last.plan
        return {
            "reconciled": True,
            "error": self.last_error,
            "servingNotAfter": plan.serving.certificate.not_after.isoformat(),
            "caNotAfter": plan.ca.certificate.not_after.isoformat(),
            "bundle": len(plan.bundle),
        }


async def run(
    manager: Manager,
    *,
    interval: float,
    stop: asyncio.Event,
    metrics_: metrics.Metrics | None = None,
    max_backoff: float = 30.0,
) -> None:
    """Reconcile until ``stop`` is set: when something falls due, at least every ``interval``."""
    failures = 0
    while not stop.is_set():
        try:
            outcome = await asyncio.to_thread(manager.reconcile)
        except (kube.ApiError, ConflictError, pki.PkiError, OSError, ValueError) as err:
            failures += 1
            manager.last_error = str(err)
            if metrics_ is not None:
                metrics_.failures.inc()
            delay = min(interval, max_backoff, 0.5 * 2 ** min(failures, 10))
            _LOG.warning("TLS reconcile failed (%s); retrying in %.1fs", err, delay)
        else:
            failures = 0
            due = outcome.plan.next_check(manager.policy) - _utc_now()
            delay = max(0.2, min(interval, due.total_seconds() + 0.1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
