"""Container policies: CRD documents compiled into matchers and judges. Pure, no I/O.

``compile(document)`` turns a ``ClusterContainerPolicy`` or
``ContainerPolicy`` (group ``bulkhead.dev``, version ``v1alpha1``), already
parsed from YAML or JSON, into a ``CompiledPolicy`` or raises
``CompileError`` listing every problem with its field path.
``applies(compiled, subject, now=...)`` says whether a policy judges a
request; ``judge(compiled, pod, subject, now=...)`` returns the findings it
reports on one pod view, exclusions applied.
"""

from webhook.policy import selectors, signatures
from webhook.policy.compiler import CompileError, compile, compile_object, unknown_check
from webhook.policy.judging import judge
from webhook.policy.matching import applies
from webhook.policy.model import (
    ACTIONS,
    API_VERSION,
    POD_SECURITY_CHECK_IDS,
    POD_SECURITY_PREFIX,
    POLICY_KINDS,
    RULE_IDS,
    WORKLOAD_KINDS,
    Action,
    CompiledPolicy,
    Exemption,
    Match,
    PolicyKind,
    Subject,
    policy_key,
)
from webhook.policy.signatures import NO_EVIDENCE, EvidenceMap
from webhook.policy.summary import describe

__all__ = [
    "ACTIONS",
    "API_VERSION",
    "NO_EVIDENCE",
    "POD_SECURITY_CHECK_IDS",
    "POD_SECURITY_PREFIX",
    "POLICY_KINDS",
    "RULE_IDS",
    "WORKLOAD_KINDS",
    "Action",
    "CompileError",
    "CompiledPolicy",
    "EvidenceMap",
    "Exemption",
    "Match",
    "PolicyKind",
    "Subject",
    "applies",
    "compile",
    "compile_object",
    "describe",
    "judge",
    "policy_key",
    "selectors",
    "signatures",
    "unknown_check",
]
