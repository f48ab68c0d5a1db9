"""AdmissionReview in, verdict out: pod-spec extraction, decisions and messages. Pure, no I/O."""

from webhook.admission.decide import (
    SKIPPED,
    SKIPPED_SUBRESOURCES,
    Decision,
    PullSecrets,
    decide,
    images_to_verify,
    judge_view,
    pull_secrets,
)
from webhook.admission.extract import CLUSTER_KINDS, KINDS, POD_KINDS, pod_view, view
from webhook.admission.messages import Violation
from webhook.admission.review import Request, ReviewError, parse, response, uid_of

__all__ = [
    "CLUSTER_KINDS",
    "KINDS",
    "POD_KINDS",
    "SKIPPED",
    "SKIPPED_SUBRESOURCES",
    "Decision",
    "PullSecrets",
    "Request",
    "ReviewError",
    "Violation",
    "decide",
    "images_to_verify",
    "judge_view",
    "parse",
    "pod_view",
    "pull_secrets",
    "response",
    "uid_of",
    "view",
]
