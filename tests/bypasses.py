"""The bypasses of the judging core, as objects and policies a user would write.

Owns: one ``Case`` per bypass that was once admitted (and a control that must
stay admitted beside most of them), each with its own ClusterContainerPolicy
selected by an object label, so all of them can be loaded at once, by
``bulkhead check --policy-file`` offline and by one ``bulkhead serve``
registered with a real apiserver. Both regression tests (``tests/unit/cli``
and ``tests/e2e``) judge exactly these objects. Pure data, no I/O.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Final

LABEL: Final = "bypass.bulkhead.dev/case"
DIGEST: Final = "sha256:" + "9f3c5b7e2a4d6c8e" * 4
PINNED: Final = f"ghcr.io/acme/app@{DIGEST}"
#: A secret that must never appear in any message.
PASSWORD: Final = "hunter2-s3cr3t"
APPARMOR_KEY: Final = "container.apparmor.security.beta.kubernetes.io/app"


@dataclasses.dataclass(frozen=True)
class Case:
    """One object, the policy that selects it, and the verdict it must get.

    ``expect`` are substrings of the denial (empty when allowed); ``item`` is
    the issue item the case proves.
    """

    id: str
    item: int
    rules: dict[str, Any]
    obj: dict[str, Any]
    denied: bool
    expect: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"bypass-{self.id}"

    def policy(self) -> dict[str, Any]:
        """The ClusterContainerPolicy that applies to this case's object only."""
        return {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": self.name},
            "spec": {
                "action": "Deny",
                "match": {"objectSelector": {"matchLabels": {LABEL: self.id}}},
                **copy.deepcopy(self.rules),
            },
        }

    def object(self) -> dict[str, Any]:
        """The object, named after the case and carrying the label its policy selects."""
        obj = copy.deepcopy(self.obj)
        metadata = obj.setdefault("metadata", {})
        metadata["name"] = self.name
        metadata.setdefault("labels", {})[LABEL] = self.id
        return obj


def container(image: str = PINNED, **fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": image, **fields}


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def deployment(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """A Deployment whose template the baseline profile admits (unless ``annotations`` say no)."""
    template: dict[str, Any] = {"metadata": {"labels": {"app": "web"}}, "spec": pod()["spec"]}
    if annotations:
        template["metadata"]["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
    }


def drop(*names: str) -> dict[str, Any]:
    return container(securityContext={"capabilities": {"drop": list(names)}})


def env(value: str) -> dict[str, Any]:
    return container(env=[{"name": "JAVA_OPTS", "value": value}])


#: The pod of the upstream v1.37 fixture ``baseline/v1.37/pass/sysctls1.yaml``.
SYSCTLS_1_37: Final = pod(
    securityContext={
        "sysctls": [
            {"name": "net.ipv4.tcp_slow_start_after_idle", "value": "0"},
            {"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"},
        ]
    }
)
STRICT_IMAGES: Final = {
    "rules": {
        "images": {
            "allowedRegistries": ["ghcr.io/acme/"],
            "requireDigest": True,
            "forbidLatest": True,
        }
    }
}
ACME_ONLY: Final = {"rules": {"images": {"allowedRegistries": ["ghcr.io/acme/"]}}}
DROP_ALL: Final = {"rules": {"capabilities": {"requireDrop": ["ALL"]}}}
DROP_C0: Final = "[capabilities] spec.containers[0].securityContext.capabilities.drop"

CASES: Final = (
    Case(
        "image-volume",
        1,
        STRICT_IMAGES,
        pod(volumes=[{"name": "models", "image": {"reference": "nginx:latest"}}]),
        denied=True,
        expect=(
            '[images] spec.volumes[0].image.reference: image volume "models" reference '
            '"nginx:latest" (docker.io/library/nginx:latest) is not from an allowed registry',
        ),
    ),
    Case(
        "image-volume-pinned",
        1,
        STRICT_IMAGES,
        pod(volumes=[{"name": "models", "image": {"reference": PINNED}}]),
        denied=False,
    ),
    Case(
        "drop-prefixed-all-upper", 2, DROP_ALL, pod(drop("CAP_ALL")), denied=True, expect=(DROP_C0,)
    ),
    Case(
        "drop-prefixed-all-lower", 2, DROP_ALL, pod(drop("cap_all")), denied=True, expect=(DROP_C0,)
    ),
    Case("drop-all-lower", 2, DROP_ALL, pod(drop("all")), denied=False),
    Case(
        "exempt-lookalike-registry",
        3,
        {**ACME_ONLY, "exclude": [{"images": ["nginx*"]}]},
        pod(container("nginx.evil.example.com/cryptominer:1")),
        denied=True,
        expect=("[images] spec.containers[0].image:",),
    ),
    Case(
        "exempt-nginx",
        3,
        {**ACME_ONLY, "exclude": [{"images": ["nginx*"]}]},
        pod(container("nginx:1.27")),
        denied=False,
    ),
    Case(
        "registry-below-only",
        4,
        ACME_ONLY,
        pod(container("ghcr.io/acme:1")),
        denied=True,
        expect=("is not from an allowed registry (ghcr.io/acme/)",),
    ),
    Case("registry-below", 4, ACME_ONLY, pod(container("ghcr.io/acme/app:1")), denied=False),
    Case(
        "host-network-no-ports",
        5,
        {"rules": {"hostPorts": {"allowed": [443]}}},
        pod(hostNetwork=True),
        denied=True,
        expect=("[hostPorts] spec.hostNetwork:",),
    ),
    Case(
        "host-network-allowed",
        5,
        {"rules": {"hostPorts": {"allowed": [443], "allowHostNetwork": True}}},
        pod(hostNetwork=True),
        denied=False,
    ),
    Case(
        "apparmor-template",
        6,
        {"profile": {"level": "baseline"}},
        deployment({APPARMOR_KEY: "unconfined"}),
        denied=True,
        expect=(f"[pss/appArmorProfile] spec.template.metadata.annotations[{APPARMOR_KEY}]:",),
    ),
    Case(
        "profile-check-own-id",
        11,
        {
            "profile": {"level": "baseline"},
            "rules": {"privileged": False},
            "exclude": [{"checks": ["privileged"]}],
        },
        pod(container(securityContext={"privileged": True})),
        denied=True,
        expect=("[pss/privileged] spec.containers[0].securityContext.privileged:",),
    ),
    Case(
        "profile-v1.37-is-v1.37",
        12,
        {"profile": {"level": "baseline", "version": "v1.37"}},
        SYSCTLS_1_37,
        denied=False,
    ),
    Case(
        "profile-v1.35-is-v1.35",
        12,
        {"profile": {"level": "baseline", "version": "v1.35"}},
        SYSCTLS_1_37,
        denied=True,
        expect=("[pss/sysctls] spec.securityContext.sysctls[1].name:",),
    ),
    Case(
        "jdbc-url-credentials",
        13,
        {"rules": {"literalSecretEnv": False}},
        pod(env(f"  -Ddb=jdbc:postgresql://app:{PASSWORD}@db:5432/app")),
        denied=True,
        expect=("[literalSecretEnv] spec.containers[0].env[0].value:", "credentials"),
    ),
)
