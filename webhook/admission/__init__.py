"""AdmissionReview in, verdict out: pod-spec extraction, decisions and messages. Pure, no I/O."""

from webhook.admission.decide import (
    SKIPPED,
    SKIPPED_SUBRESOURCES,
    Decision,
    decide,
    images_to_verify,
    judge_view,
)
from webhook.admission.extract import KINDS, pod_view
from webhook.admission.messages import Violation
from webhook.admission.review import Request, ReviewError, parse, response, uid_of

__all__ = [
    "KINDS",
    "SKIPPED",
    "SKIPPED_SUBRESOURCES",
    "Decision",
    "Request",
    "ReviewError",
    "Violation",
    "decide",
    "images_to_verify",
    "judge_view",
    "parse",
    "pod_view",
    "response",
    "uid_of",
]
