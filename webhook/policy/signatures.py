"""The ``imageSignatures`` check: its settings and its verdict on verified evidence. Pure, no I/O.

A policy writes, under ``spec.rules``::

    imageSignatures:
      keys:                         # trusted public keys, PEM (cosign.pub)
        - |
          -----BEGIN PUBLIC KEY-----
          ...
          -----END PUBLIC KEY-----
      keySecrets:                   # and/or keys in Secrets (``key_secrets``)
        - {namespace: sigstore, name: release-signing, key: cosign.pub}
      repositories: [registry.example.com/team/*]   # which images it applies to
      required: 1                   # valid signatures by distinct trusted keys
      vulnerabilities:              # optional: a signed, recent, clean scan (``vulnerabilities``)
        maxAge: 7d
        failOnSeverity: high

At least one of ``keys`` and ``keySecrets`` is set. The keys of
``keySecrets`` are those the operator resolved into the object's
``status.trustedKeys`` (``key_secrets.resolutions``); while any reference is
not resolved (not yet read, Secret or key missing, not a public key) the
check fails closed: every image it covers is denied, the message naming the
Secret, the key and why.

``repositories`` are patterns of the policy grammar (``patterns.parse``),
matched against an image's normalised repository ``registry/path`` (so
``nginx`` is ``docker.io/library/nginx``); left out, every image.

Nothing here talks to a registry or checks a signature: the I/O layer
(``webhook.supplychain``) resolves each image to a digest, fetches its
cosign signatures, verifies them with the trusted keys and hands the result
in as ``Evidence``. ``check`` only counts what was proven. An image with no
evidence at all (nobody verified it) fails, so the check fails closed. With
``vulnerabilities``, an image whose signatures pass is then judged on its
vulnerability attestations (``vulnerabilities.verdict``), at the decision's
clock.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
import re
import types
from collections.abc import Mapping
from typing import Final

from webhook.policy import key_secrets, patterns, vulnerabilities
from webhook.rules import config, findings, image_references, openapi, podview, registry

ID: Final = "imageSignatures"
FIELDS: Final = ("keys", key_secrets.FIELD, "repositories", "required", "vulnerabilities")
FIX: Final = (
    "sign the image digest with a trusted key (cosign sign --key ...), or pin a digest "
    "that is signed"
)
UNRESOLVED_FIX: Final = (
    "create the Secret with the PEM public key under that data key (cosign generate-key-pair "
    "k8s://namespace/name), or correct keySecrets; the policy's status.trustedKeys and its "
    "Ready condition show what the operator resolved"
)

_PEM: Final = re.compile(
    r"-----BEGIN PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----"
)


@dataclasses.dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key a policy trusts: its DER ``SubjectPublicKeyInfo`` and short id.

    ``id`` is the first 16 hex digits of the SHA-256 of the DER bytes; messages
    name keys by it.
    """

    id: str
    der: bytes


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A policy's ``spec.rules.imageSignatures``."""

    #: ``keys`` and the resolved keys of ``keySecrets``, each once
    keys: tuple[TrustedKey, ...]
    repositories: patterns.Patterns | None
    required: int
    vulnerabilities: vulnerabilities.Settings | None = None
    key_secrets: tuple[key_secrets.KeySecret, ...] = ()
    #: why each ``keySecrets`` reference not (yet) resolved is not: covered images fail
    unresolved: tuple[str, ...] = ()

    def covers(self, image: str) -> bool:
        """Whether this check applies to ``image`` (an unparseable image is covered)."""
        if self.repositories is None:
            return True
        try:
            reference = image_references.parse(image)
        except image_references.ImageError:
            return True
        return self.repositories.matches(repository(reference))


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    """One signature found for an image: the trusted key it verifies with, or why not.

    ``key`` is a ``TrustedKey.id`` when the signature verified and its
    payload names the image's digest and repository; otherwise ``None`` and
    ``problem`` says what failed.
    """

    key: str | None
    problem: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What the I/O layer proved about one image.

    ``digest`` is the digest verified (the pinned one, or the tag's current
    one); ``failure`` is set when the image could not be checked at all
    (registry unreachable, manifest refused); ``signatures`` lists every
    signature found for the digest; ``attestations`` every vulnerability
    attestation found, or ``None`` when they were not looked up.
    """

    image: str
    digest: str | None
    failure: str = ""
    signatures: tuple[Signature, ...] = ()
    attestations: tuple[vulnerabilities.Attestation, ...] | None = None


#: Evidence by image reference, exactly as written in the pod spec.
EvidenceMap = Mapping[str, Evidence]
#: No image verified (what the webhook passes until it verifies images itself).
NO_EVIDENCE: Final[EvidenceMap] = types.MappingProxyType({})


#: The OpenAPI schema of ``spec.rules.imageSignatures``.
SCHEMA: Final[openapi.Schema] = openapi.obj(
    "Images must carry cosign signatures by trusted keys, verified against their "
    "registry for the image's digest (a tag is resolved to its current digest). "
    "Key-based signatures only; keyless (Fulcio/Rekor) is not verified.",
    {
        "keys": openapi.names(
            "Trusted public keys, each one PEM block (-----BEGIN PUBLIC KEY----- "
            "... -----END PUBLIC KEY-----, as in cosign.pub)."
        ),
        key_secrets.FIELD: key_secrets.SCHEMA,
        "repositories": openapi.names(
            "Image repositories (registry/path, nginx is docker.io/library/nginx) "
            "the check applies to; '*' matches any run of characters. Left out: "
            "every image.",
            pattern=openapi.NO_WHITESPACE,
        ),
        "required": {
            "type": "integer",
            "minimum": 1,
            "description": "Valid signatures by distinct trusted keys each image "
            "needs (default 1).",
        },
        "vulnerabilities": vulnerabilities.SCHEMA,
    },
    validations=(
        openapi.cel(
            f"has(self.keys) || has(self.{key_secrets.FIELD})",
            f"set keys, {key_secrets.FIELD} or both: with no trusted key no image could pass",
        ),
    ),
)


def repository(reference: image_references.Reference) -> str:
    """``registry/path`` of a parsed reference: what ``repositories`` patterns match."""
    return f"{reference.registry}/{reference.repository}"


def read_key(text: str) -> TrustedKey | str:
    """The public key of one PEM block, or why ``text`` is not one."""
    found = _PEM.fullmatch(text.strip())
    if found is None:
        return (
            "must be one PEM public key (-----BEGIN PUBLIC KEY----- ... "
            "-----END PUBLIC KEY-----, as in cosign.pub)"
        )
    try:
        der = base64.b64decode("".join(found.group(1).split()), validate=True)
    except binascii.Error:
        return "the PEM body is not valid base64"
    # A SubjectPublicKeyInfo is one DER SEQUENCE; anything else is not a public key.
    if len(der) < 32 or der[0] != 0x30:
        return "the PEM body is not a public key"
    return TrustedKey(id=hashlib.sha256(der).hexdigest()[:16], der=der)


def _resolved(
    references: tuple[key_secrets.KeySecret, ...], status: object
) -> tuple[list[TrustedKey], list[str]]:
    """The keys of ``references`` the operator resolved into ``status``, and why others are not."""
    found = key_secrets.resolutions(status)
    keys: list[TrustedKey] = []
    unresolved: list[str] = []
    for reference in references:
        resolution = found.get(reference)
        if resolution is None:
            reason = "the operator has not (yet) read it into status.trustedKeys"
        elif resolution.error:
            reason = resolution.error
        else:
            key = read_key(resolution.pem)
            if isinstance(key, TrustedKey):
                keys.append(key)
                continue
            reason = f"status.trustedKeys holds no usable key: {key}"
        unresolved.append(f"the key Secret {reference} is not resolved: {reason}")
    return keys, unresolved


def parse(
    value: object, path: str, *, namespace: str | None = None, status: object = None
) -> Settings:
    """Read ``spec.rules.imageSignatures``; ``registry.ConfigError`` lists every problem.

    ``namespace`` is a ContainerPolicy's own (``None`` for a cluster policy);
    ``status`` is the object's status, where the operator resolved ``keySecrets``.
    """
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=FIELDS, problems=problems)
    if spec is None:
        raise registry.ConfigError(problems)
    keys: list[TrustedKey] = []
    if spec.get("keys") is None and spec.get(key_secrets.FIELD) is None:
        problems.append(
            registry.Problem(
                f"{path}.keys",
                f"required: at least one PEM public key, here or in {key_secrets.FIELD}",
            )
        )
    if spec.get("keys") is not None:
        texts = config.strings(
            spec["keys"],
            path=f"{path}.keys",
            problems=problems,
            empty="must not be empty: no signature could ever verify",
        )
        for index, text in enumerate(texts or ()):
            key = read_key(text)
            if isinstance(key, str):
                problems.append(registry.Problem(f"{path}.keys[{index}]", key))
            elif key not in keys:
                keys.append(key)
    references: tuple[key_secrets.KeySecret, ...] = ()
    if spec.get(key_secrets.FIELD) is not None:
        references = key_secrets.parse(
            spec[key_secrets.FIELD],
            f"{path}.{key_secrets.FIELD}",
            namespace=namespace,
            problems=problems,
        )
    repositories: patterns.Patterns | None = None
    if spec.get("repositories") is not None:
        try:
            repositories = patterns.parse(
                spec["repositories"],
                f"{path}.repositories",
                empty="must not be empty: it would cover no image (leave it out to cover all)",
            )
        except registry.ConfigError as error:
            problems.extend(error.problems)
    required = 1
    raw = spec.get("required")
    if raw is not None:
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
            problems.append(
                registry.Problem(f"{path}.required", f"must be a whole number >= 1, not {raw!r}")
            )
        else:
            required = raw
    if not problems and required > len(keys) + len(references):
        problems.append(
            registry.Problem(
                f"{path}.required",
                f"asks for {required} signatures by distinct keys but only "
                f"{len(keys) + len(references)} key(s) are trusted: no image could pass",
            )
        )
    scans: vulnerabilities.Settings | None = None
    if spec.get("vulnerabilities") is not None:
        try:
            scans = vulnerabilities.parse(spec["vulnerabilities"], f"{path}.vulnerabilities")
        except registry.ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise registry.ConfigError(problems)
    resolved, unresolved = _resolved(references, status)
    keys.extend(key for key in resolved if key not in keys)
    return Settings(
        keys=tuple(keys),
        repositories=repositories,
        required=required,
        vulnerabilities=scans,
        key_secrets=references,
        unresolved=tuple(unresolved),
    )


def _shown(evidence: Evidence) -> str:
    if evidence.digest is None or evidence.digest in evidence.image:
        return evidence.image
    return f"{evidence.image} (digest {evidence.digest})"


def _verdict(settings: Settings, evidence: Evidence | None, image: str) -> str | None:
    """Why ``image`` fails the check, or ``None`` when it passes."""
    if evidence is None:
        return (
            f"image {image} was not verified: its signatures must be checked against the "
            "registry (bulkhead check --verify-images), and nothing verified it"
        )
    if evidence.failure:
        return f"image {_shown(evidence)} could not be verified: {evidence.failure}"
    trusted = {key.id for key in settings.keys}
    good = {s.key for s in evidence.signatures if s.key is not None and s.key in trusted}
    if len(good) >= settings.required:
        return None
    shown = _shown(evidence)
    if not evidence.signatures:
        return (
            f"image {shown} has no cosign signature in its registry "
            "(no signature manifest tagged sha256-<digest>.sig and no referrer)"
        )
    problems = [s.problem for s in evidence.signatures if s.key is None and s.problem]
    other = [s.key for s in evidence.signatures if s.key is not None and s.key not in trusted]
    if other:
        problems.append(f"{len(other)} signature(s) by keys this policy does not trust")
    reasons = "; ".join(dict.fromkeys(problems)) or "no signature by a trusted key"
    return (
        f"image {shown} needs {settings.required} valid signature(s) by distinct trusted "
        f"keys, found {len(good)}: {reasons}"
    )


def scan_failure(
    settings: Settings, evidence: Evidence, *, now: datetime.datetime
) -> vulnerabilities.Failure | None:
    """Why ``evidence`` fails ``settings.vulnerabilities`` at ``now``; ``None`` if it passes."""
    if settings.vulnerabilities is None:
        return None
    return vulnerabilities.verdict(
        settings.vulnerabilities,
        evidence.attestations,
        trusted={key.id for key in settings.keys},
        now=now,
    )


def check(
    settings: Settings, pod: podview.PodView, evidence: EvidenceMap, *, now: datetime.datetime
) -> list[findings.Finding]:
    """A finding per covered container whose image lacks valid signatures (or a clean scan)."""
    out: list[findings.Finding] = []
    for container in pod.containers:
        if not settings.covers(container.image):
            continue
        if settings.unresolved:
            message = f"image {container.image} cannot be judged: " + "; ".join(settings.unresolved)
            out.append(container.finding(ID, "image", message=message, fix=UNRESOLVED_FIX))
            continue
        found = evidence.get(container.image)
        reason = _verdict(settings, found, container.image)
        if reason is not None:
            out.append(container.finding(ID, "image", message=reason, fix=FIX))
            continue
        failure = None if found is None else scan_failure(settings, found, now=now)
        if found is not None and failure is not None:
            out.append(
                container.finding(
                    ID,
                    "image",
                    message=f"image {_shown(found)} fails the vulnerability check: "
                    f"{failure.message}",
                    fix=failure.fix,
                )
            )
    return out
