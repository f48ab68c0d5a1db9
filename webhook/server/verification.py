"""Image verification for one review: the evidence ``imageSignatures`` needs. Network I/O.

The pure decision cannot talk to registries, so before ``admission.decide``
the worker asks ``admission.images_to_verify`` which images an applicable
policy's ``imageSignatures`` covers and has the app's long-lived
``supplychain.verifier.Verifier`` verify them, in parallel and within
``--registry-timeout``. Each image's result is recorded for the metrics.
Every failure (a registry down, a trusted key that cannot be loaded, a
process with no verifier: the front, which leaves such reviews to a worker)
becomes evidence that says so, which the check turns into a denial: never an
exception, never an allowed image.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence

from webhook import admission, jsonlogs, policy, supplychain
from webhook.policy import signatures
from webhook.server import metrics, settings
from webhook.supplychain import cosign, verifier


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


def evidence(
    checker: verifier.Verifier | None,
    recorder: metrics.Recorder,
    request: admission.Request,
    policies: Sequence[policy.CompiledPolicy],
    *,
    namespace_labels: Mapping[str, str],
    now: datetime.datetime,
    timeout: float,
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
        found = checker.verify(wanted, policies, timeout=timeout)
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
