"""The ``images`` rule: where images come from and how they are pinned. Pure, no I/O.

Policy value (``spec.rules.images``), any of these fields (``{}`` checks only
that every image reference is valid):

    images:
      allowedRegistries: [ghcr.io/acme/, docker.io/library]   # left out: any registry
      requireDigest: true     # every image pinned by digest (image@sha256:...)
      forbidLatest: true      # no :latest, written or implied, unless pinned by digest

Fields read: every field of a pod spec that makes the node pull an image
(``podview.IMAGE_FIELDS``), each parsed and normalised by ``image_references``
(``nginx`` is ``docker.io/library/nginx:latest``):

- ``spec.initContainers[*].image``
- ``spec.containers[*].image``
- ``spec.ephemeralContainers[*].image``
- ``spec.volumes[*].image.reference`` (image volumes: the kubelet pulls the
  image and mounts it, so it is judged exactly like a container image; an
  image volume with no reference is a finding while the rule is on)

- An empty or invalid reference is always a finding while the rule is on.
- ``allowedRegistries``: entries are registries or registry/repository
  prefixes matched on ``/`` boundaries (``ghcr.io/acme`` admits
  ``ghcr.io/acme/team/app``, never ``ghcr.io/acme-evil/app``); ``docker.io``
  admits ``nginx``. The list may not be empty.
- ``requireDigest``: a reference with no ``@sha256:...`` is a finding.
- ``forbidLatest``: a reference with no digest and no tag, or the tag
  ``latest``, is a finding; with a digest the tag does not matter.

One finding per image, listing every reason, at its field (``...image`` or
``spec.volumes[i].image.reference``).
Messages show the image as written and normalised: images are not secrets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

from webhook.rules import config, findings, image_references, openapi, podview, registry

ID: Final = "images"

_FIELDS: Final = ("allowedRegistries", "requireDigest", "forbidLatest")
_FIX: Final = (
    "Use an image from an allowed registry, pinned by digest: registry/repository@sha256:<digest>."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    """What the policy demands of every image; ``allowed`` is ``None`` for any registry."""

    allowed: image_references.PrefixSet | None
    require_digest: bool
    forbid_latest: bool

    def allows(self, reference: image_references.Reference) -> bool:
        """Whether the reference comes from an allowed registry."""
        allowed = self.allowed
        return allowed is None or allowed.admits(reference)


def _prefixes(value: object, path: str, *, problems: config.Problems) -> image_references.PrefixSet:
    items = config.string_items(value, path=path, problems=problems)
    if isinstance(value, list) and not value:
        problems.append(
            registry.Problem(
                path, "must list at least one registry; leave it out to allow any registry"
            )
        )
    prefixes: list[image_references.Prefix] = []
    for item_path, text in items:
        try:
            prefix = image_references.parse_prefix(text)
        except image_references.ImageError as error:
            problems.append(registry.Problem(item_path, f'"{text}" {error.reason}'))
            continue
        if prefix not in prefixes:
            prefixes.append(prefix)
    return image_references.PrefixSet(tuple(prefixes))


def parse(value: object, path: str) -> Params:
    """Validate ``spec.rules.images``."""
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=_FIELDS, problems=problems)
    allowed: image_references.PrefixSet | None = None
    require_digest = forbid_latest = False
    if isinstance(spec, Mapping):
        if "allowedRegistries" in spec:
            allowed = _prefixes(
                spec["allowedRegistries"], f"{path}.allowedRegistries", problems=problems
            )
        if "requireDigest" in spec:
            require_digest = config.boolean(
                spec["requireDigest"], f"{path}.requireDigest", problems=problems
            )
        if "forbidLatest" in spec:
            forbid_latest = config.boolean(
                spec["forbidLatest"], f"{path}.forbidLatest", problems=problems
            )
    config.raise_if_any(problems)
    return Params(allowed=allowed, require_digest=require_digest, forbid_latest=forbid_latest)


def _judge(
    source: podview.ImageSource, *, reference: image_references.Reference, params: Params
) -> findings.Finding | None:
    from_allowed = params.allows(reference)
    missing_digest = params.require_digest and reference.digest is None
    latest = params.forbid_latest and reference.latest
    if from_allowed and not missing_digest and not latest:
        return None
    reasons: list[str] = []
    fixes: list[str] = []
    if not from_allowed:
        registries = str(params.allowed)
        reasons.append(f"is not from an allowed registry ({registries})")
        fixes.append(f"Pull the image from {registries}.")
    if missing_digest:
        reasons.append("is not pinned by a digest")
        fixes.append("Pin it by digest: image@sha256:<digest>.")
    if latest:
        reasons.append(
            "uses the tag latest" if reference.tag is not None else "has no tag, so it is latest"
        )
        if not missing_digest:
            fixes.append("Use a version tag or a digest instead of latest.")
    return source.finding(
        ID,
        message=(
            f'{source.label} {source.noun} "{source.image}" ({reference.normalized}) '
            + "; ".join(reasons)
        ),
        fix=" ".join(fixes),
    )


def check(params: Params, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for images that are invalid, from elsewhere, unpinned or ``latest``."""
    out: list[findings.Finding] = []
    allowed = params.allowed
    require_digest = params.require_digest
    forbid_latest = params.forbid_latest
    for source in pod.image_sources():
        try:
            reference = image_references.parse(source.image)
        except image_references.ImageError as error:
            if source.image:
                message = (
                    f'{source.label} {source.noun} "{source.image}" is not valid: {error.reason}'
                )
            else:
                message = f"{source.label} has no {source.noun}"
            out.append(
                source.finding(
                    ID,
                    message=message,
                    fix=f"Set {source.noun} to a valid reference, "
                    "e.g. ghcr.io/acme/app@sha256:<digest>.",
                )
            )
            continue
        if (
            (allowed is None or allowed.admits(reference))
            and not (require_digest and reference.digest is None)
            and not (forbid_latest and reference.latest)
        ):
            continue
        finding = _judge(source, reference=reference, params=params)
        if finding is not None:
            out.append(finding)
    return out


RULE: Final[registry.Rule[Params]] = registry.Rule(
    id=ID,
    title="Images from allowed registries, pinned, never latest",
    fields=podview.IMAGE_FIELDS,
    fix=_FIX,
    severity="medium",
    schema=openapi.obj(
        "{} checks only that every image reference is valid.",
        {
            "allowedRegistries": openapi.names(
                "Registries or registry/repository prefixes images must come from, "
                "matched on '/' boundaries (ghcr.io/acme admits ghcr.io/acme/app, never "
                "ghcr.io/acme-evil/app; docker.io admits nginx). Left out: any registry.",
                pattern=openapi.NO_WHITESPACE,
            ),
            "requireDigest": openapi.boolean(
                "true: every image is pinned by digest (image@sha256:...)."
            ),
            "forbidLatest": openapi.boolean(
                "true: no image uses the tag latest, written or implied, "
                "unless it is pinned by digest."
            ),
        },
    ),
    parse=parse,
    check=check,
)
