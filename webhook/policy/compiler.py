"""Compiling a policy document into a ``model.CompiledPolicy``. Pure, no I/O.

``compile`` is the one step the webhook's cache, the operator's status and
the CLI share: a document compiles, and is enforced exactly as compiled, or
it raises ``CompileError`` listing every problem found, each with the path of
the field at fault (``spec.exclude[2].expires``). Callers pass documents
already parsed from YAML or JSON; nothing here reads files. The policy's
scope (``spec.match``, ``spec.exclude``) is read by ``scope_compiler``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final

from webhook import profiles, rules
from webhook.policy import model, names, network_policy, scope_compiler, signatures
from webhook.rules import config, registry

DOCUMENT_FIELDS: Final = ("apiVersion", "kind", "metadata", "spec", "status")
SPEC_FIELDS: Final = ("action", "profile", "rules", "match", "exclude")
PROFILE_FIELDS: Final = ("level", "version")


class CompileError(ValueError):
    """A policy document cannot be enforced; ``problems`` lists every reason, each with its path."""

    def __init__(self, problems: Sequence[registry.Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


def _require_name(
    value: object, *, path: str, problems: config.Problems, label: bool
) -> str | None:
    if value is None:
        problems.append(registry.Problem(path, "required"))
        return None
    text = config.string(value, path=path, problems=problems)
    if text is None:
        return None
    if label and not names.is_dns_label(text):
        problems.append(
            registry.Problem(
                path,
                "must be a DNS label: at most 63 lower-case letters, digits or '-', "
                "starting and ending with a letter or digit",
            )
        )
        return None
    if not label and not names.is_dns_subdomain(text):
        problems.append(
            registry.Problem(
                path,
                "must be a DNS subdomain: at most 253 lower-case letters, digits, '-' "
                "or '.', starting and ending with a letter or digit",
            )
        )
        return None
    return text


def _header(document: Mapping[str, Any], problems: config.Problems) -> model.PolicyKind | None:
    config.known_keys(document, allowed=DOCUMENT_FIELDS, path="", problems=problems)
    api_version = document.get("apiVersion")
    if api_version is None:
        problems.append(registry.Problem("apiVersion", f"required: {model.API_VERSION}"))
    elif api_version != model.API_VERSION:
        problems.append(
            registry.Problem(
                "apiVersion",
                f"must be {model.API_VERSION}, not {api_version!r}",
            )
        )
    kind = document.get("kind")
    if kind is None:
        problems.append(registry.Problem("kind", f"required: {config.one_of(model.POLICY_KINDS)}"))
        return None
    return config.choice(kind, model.POLICY_KINDS, path="kind", problems=problems)


def _metadata(
    document: Mapping[str, Any], *, kind: model.PolicyKind | None, problems: config.Problems
) -> tuple[str | None, str | None, int | None, str | None]:
    raw = document.get("metadata")
    metadata = {} if raw is None else config.mapping(raw, path="metadata", problems=problems)
    if metadata is None:
        return None, None, None, None
    name = _require_name(metadata.get("name"), path="metadata.name", problems=problems, label=False)
    namespace: str | None = None
    if kind == model.NAMESPACED_KIND:
        if metadata.get("namespace") is None:
            problems.append(
                registry.Problem(
                    "metadata.namespace", "required: a ContainerPolicy lives in a namespace"
                )
            )
        else:
            namespace = _require_name(
                metadata.get("namespace"), path="metadata.namespace", problems=problems, label=True
            )
    generation = metadata.get("generation")
    if not isinstance(generation, int) or isinstance(generation, bool):
        generation = None
    uid = metadata.get("uid")
    return name, namespace, generation, uid if isinstance(uid, str) and uid else None


def _action(spec: Mapping[str, Any], problems: config.Problems) -> model.Action:
    raw = spec.get("action")
    if raw is None:
        return model.DEFAULT_ACTION
    action = config.choice(raw, model.ACTIONS, path="spec.action", problems=problems)
    return model.DEFAULT_ACTION if action is None else action


def _profile(
    value: object, *, latest_minor: int, problems: config.Problems
) -> profiles.Profile | None:
    path = "spec.profile"
    before = len(problems)
    spec = config.mapping(value, path=path, problems=problems, allowed=PROFILE_FIELDS)
    if spec is None:
        return None
    level: str | None = None
    if spec.get("level") is None:
        problems.append(
            registry.Problem(f"{path}.level", f"required: {config.one_of(profiles.LEVELS)}")
        )
    else:
        level = config.string(spec["level"], path=f"{path}.level", problems=problems)
    version: str | None = "latest"
    if spec.get("version") is not None:
        version = config.string(spec["version"], path=f"{path}.version", problems=problems)
    if level is None or version is None:
        return None
    try:
        profile = profiles.resolve(level, version, latest_minor=latest_minor)
    except ValueError as error:
        at = f"{path}.level" if level not in profiles.LEVELS else f"{path}.version"
        reason = str(error)
        if level not in profiles.LEVELS:
            reason += config.suggestion(level, profiles.LEVELS)
        problems.append(registry.Problem(at, reason))
        return None
    return profile if len(problems) == before else None


@dataclasses.dataclass(frozen=True, slots=True)
class _Rules:
    """What ``spec.rules`` enables: pod checks, object checks, image signatures, isolation."""

    checks: tuple[registry.BoundCheck, ...] = ()
    object_checks: tuple[registry.BoundObjectCheck, ...] = ()
    image_signatures: signatures.Settings | None = None
    network_isolation: network_policy.Settings | None = None


def _rules(
    value: object, *, namespace: str | None, status: object, problems: config.Problems
) -> _Rules:
    """``spec.rules``; ``namespace`` and ``status`` are the object's (for ``keySecrets``)."""
    path = "spec.rules"
    spec = config.mapping(value, path=path, problems=problems, allowed=model.RULE_IDS)
    if spec is None:
        return _Rules()
    image_signatures: signatures.Settings | None = None
    if spec.get(signatures.ID) is not None:
        try:
            image_signatures = signatures.parse(
                spec[signatures.ID],
                config.child(path, signatures.ID),
                namespace=namespace,
                status=status,
            )
        except registry.ConfigError as error:
            problems.extend(error.problems)
    isolation: network_policy.Settings | None = None
    if network_policy.ID in spec:
        try:
            isolation = network_policy.parse(
                spec[network_policy.ID], config.child(path, network_policy.ID)
            )
        except registry.ConfigError as error:
            problems.extend(error.problems)
    bound: list[registry.BoundCheck] = []
    bound_objects: list[registry.BoundObjectCheck] = []
    for rule_id, rule in rules.RULES.items():
        if rule_id not in spec:
            continue
        try:
            check = rule.bind(spec[rule_id], config.child(path, rule_id))
        except registry.ConfigError as error:
            problems.extend(error.problems)
            continue
        if isinstance(check, registry.BoundCheck):
            bound.append(check)
        elif check is not None:
            bound_objects.append(check)
    return _Rules(tuple(bound), tuple(bound_objects), image_signatures, isolation)


def compile(
    document: Mapping[str, Any], *, latest_minor: int = profiles.DEFAULT_LATEST_MINOR
) -> model.CompiledPolicy:
    """Compile a ``ClusterContainerPolicy`` or ``ContainerPolicy`` document.

    ``latest_minor`` is the Pod Security policy version ``latest`` stands for
    (``profiles.resolve``'s setting: by default the release Bulkhead targets).

    Raises ``CompileError`` with every problem found when the document
    cannot be enforced exactly as written.
    """
    problems: config.Problems = []
    if not isinstance(document, Mapping):
        raise CompileError(
            [registry.Problem("document", f"must be an object, not {config.describe(document)}")]
        )
    kind = _header(document, problems)
    name, namespace, generation, uid = _metadata(document, kind=kind, problems=problems)
    spec = None
    if document.get("spec") is None:
        problems.append(
            registry.Problem(
                "spec", "required: set spec.profile or at least one rule under spec.rules"
            )
        )
    else:
        spec = config.mapping(document["spec"], path="spec", problems=problems, allowed=SPEC_FIELDS)
    action: model.Action = model.DEFAULT_ACTION
    profile: profiles.Profile | None = None
    enabled = _Rules()
    match = model.MATCH_EVERYTHING
    exclusions: tuple[model.Exclusion, ...] = ()
    if spec is not None:
        action = _action(spec, problems)
        before = len(problems)
        if spec.get("profile") is not None:
            profile = _profile(spec["profile"], latest_minor=latest_minor, problems=problems)
        if spec.get("rules") is not None:
            enabled = _rules(
                spec["rules"], namespace=namespace, status=document.get("status"), problems=problems
            )
        runs_nothing = (
            (profile is None or profile.level == "privileged")
            and not enabled.checks
            and not enabled.object_checks
            and enabled.image_signatures is None
            and enabled.network_isolation is None
        )
        if runs_nothing and len(problems) == before:
            problems.append(
                registry.Problem(
                    "spec",
                    "enforces nothing: set spec.profile (baseline or restricted) "
                    "or enable at least one rule under spec.rules",
                )
            )
        if spec.get("match") is not None:
            match = scope_compiler.match(spec["match"], kind=kind, problems=problems)
        if spec.get("exclude") is not None:
            exclusions = scope_compiler.exclude(spec["exclude"], kind=kind, problems=problems)
    if problems or kind is None or name is None:
        raise CompileError(problems)
    return model.CompiledPolicy(
        kind=kind,
        name=name,
        namespace=namespace,
        action=action,
        profile=profile,
        checks=enabled.checks,
        object_checks=enabled.object_checks,
        image_signatures=enabled.image_signatures,
        network_isolation=enabled.network_isolation,
        generation=generation,
        uid=uid,
        match=match,
        exclusions=exclusions,
    )


def compile_object(
    document: Mapping[str, Any], *, latest_minor: int
) -> tuple[model.CompiledPolicy | None, str]:
    """The document compiled, or ``None`` and its problems, one ``path: reason`` per line."""
    try:
        return compile(document, latest_minor=latest_minor), ""
    except CompileError as err:
        return None, "\n".join(str(problem) for problem in err.problems)
