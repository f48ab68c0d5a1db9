"""Image verification for one review: the evidence ``imageSignatures`` needs. Network I/O.

The pure decision cannot talk to registries, so before ``admission.decide``
the worker asks ``admission.images_to_verify`` which images an applicable
policy's ``imageSignatures`` covers and has the app's long-lived
``supplychain.verifier.Verifier`` verify them, in parallel and within
``--registry-timeout``. With ``--registry-pull-secrets`` the images are
verified with the credentials of the Pod's own ``imagePullSecrets`` (or its
ServiceAccount's), from the worker's ``pullsecrets.PullSecretCache``, and
what they verify is cached for the Pod's namespace only. Each image's result
is recorded for the metrics.
Every failure (a registry down, a trusted key that cannot be loaded, a
process with no verifier: the front, which leaves such reviews to a worker)
becomes evidence that says so, which the check turns into a denial: never an
exception, never an allowed image.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from webhook import admission, jsonlogs, policy, supplychain
from webhook.policy import signatures
from webhook.server import metrics, settings
from webhook.supplychain import cosign, verifier

if TYPE_CHECKING:
    from webhook.server import pullsecrets


def make_verifier(config: settings.Settings, log: logging.Logger) -> verifier.Verifier:
    """The app's verifier: registries reached with ``config``'s CA bundle, credentials, timeout.

    A credentials file that cannot be used is logged (never its content) and
    the verifier goes anonymous: registries that need credentials then deny.
    """
    credentials: dict[str, supplychain.registry.Credential] = {}
    if config.registry_credentials_file:
        try:
            credentials = supplychain.dockerconfig.load(config.registry_credentials_file)
        except supplychain.dockerconfig.DockerConfigError as err:
            log.error(
                "registry credentials unusable; registries are reached anonymously",
                extra=jsonlogs.fields(error=str(err)),
            )
    return verifier.Verifier(
        supplychain.registry.Settings(
            ca_file=config.registry_ca_file,
            timeout=config.registry_timeout,
            credentials=credentials,
        )
    )


def pull_secret_cache(config: settings.Settings) -> pullsecrets.PullSecretCache | None:
    """A started cache of the cluster's pull Secrets with ``--registry-pull-secrets``, else None.

    Imported only then: it brings in the Kubernetes client.
    """
    if not config.registry_pull_secrets:
        return None
    from webhook import kube  # noqa: PLC0415 - see above
    from webhook.server import pullsecrets  # noqa: PLC0415 - see above

    cache = pullsecrets.PullSecretCache(
        api=kube.Api(kube.client_configuration(kubeconfig=config.kubeconfig))
    )
    cache.start()
    return cache


def evidence(
    checker: verifier.Verifier | None,
    recorder: metrics.Recorder,
    request: admission.Request,
    policies: Sequence[policy.CompiledPolicy],
    *,
    namespace_labels: Mapping[str, str],
    now: datetime.datetime,
    timeout: float,
    pull_secrets: pullsecrets.PullSecretCache | None = None,
) -> policy.EvidenceMap:
    """What was proven about the images of ``request`` that need it (empty when none do)."""
    wanted = admission.images_to_verify(
        request, policies, namespace_labels=namespace_labels, now=now
    )
    if not wanted:
        return policy.NO_EVIDENCE
    try:
        if checker is None:
            raise cosign.UnusableKeyError("this process does not verify images")
        pull = None if pull_secrets is None else admission.pull_secrets(request)
        access = None if pull is None or pull_secrets is None else pull_secrets.access(pull)
        found = checker.verify(wanted, policies, timeout=timeout, access=access)
    except cosign.UnusableKeyError as err:
        for _ in wanted:
            recorder.verified(result=verifier.ERROR, seconds=0.0)
        return {
            image: signatures.Evidence(image=image, digest=None, failure=str(err))
            for image in wanted
        }
    for outcome in found.outcomes:
        recorder.verified(result=outcome.result, seconds=outcome.seconds)
    return found.evidence
