"""Compiling a policy document into a ``model.CompiledPolicy``. Pure, no I/O.

``compile`` is the one step the webhook's cache, the operator's status and
the CLI share: a document compiles, and is enforced exactly as compiled, or
it raises ``CompileError`` listing every problem found, each with the path of
the field at fault (``spec.exclude[2].expires``). Callers pass documents
already parsed from YAML or JSON; nothing here reads files.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from webhook import profiles, rules
from webhook.policy import model, names, patterns, selectors, signatures
from webhook.rules import config, registry

DOCUMENT_FIELDS: Final = ("apiVersion", "kind", "metadata", "spec", "status")
SPEC_FIELDS: Final = ("action", "profile", "rules", "match", "exclude")
PROFILE_FIELDS: Final = ("level", "version")
MATCH_FIELDS: Final = ("kinds", "namespaces", "namespaceSelector", "objectSelector")
#: Fields of an exclusion entry that select requests or findings.
EXCLUSION_SELECTORS: Final = ("namespaces", "usernames", "groups", "images", "containers", "checks")
EXCLUSION_FIELDS: Final = (*EXCLUSION_SELECTORS, "reason", "expires")

_DNS_LABEL_GLOB: Final = re.compile(r"^[-a-z0-9*]+$")
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_ONE_DAY: Final = datetime.timedelta(days=1)


class CompileError(ValueError):
    """A policy document cannot be enforced; ``problems`` lists every reason, each with its path."""

    def __init__(self, problems: Sequence[registry.Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


def _dns_label_pattern(what: str) -> patterns.Validator:
    def validate(pattern: str) -> str | None:
        if "*" in pattern:
            ok = _DNS_LABEL_GLOB.match(pattern) is not None
        else:
            ok = names.is_dns_label(pattern)
        if ok:
            return None
        return (
            f"can never match a {what} name (at most 63 lower-case letters, digits "
            "or '-', starting and ending with a letter or digit; '*' matches any run)"
        )

    return validate


def _image_pattern(pattern: str) -> str | None:
    if any(c.isspace() for c in pattern):
        return "can never match an image: image references contain no whitespace"
    if "" in pattern.split("/"):
        return "can never match an image: it has an empty path segment ('//' or a '/' at an end)"
    _, _, path = patterns.image_pattern(pattern).partition("/")
    repository = path.rpartition("/")[0] + "/" + path.rpartition("/")[2].split(":")[0]
    if repository != repository.lower():
        return "can never match an image: repository paths are lower case"
    return None


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
) -> tuple[str | None, str | None, int | None]:
    raw = document.get("metadata")
    metadata = {} if raw is None else config.mapping(raw, path="metadata", problems=problems)
    if metadata is None:
        return None, None, None
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
    return name, namespace, generation


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


def _rules(
    value: object, problems: config.Problems
) -> tuple[tuple[registry.BoundCheck, ...], signatures.Settings | None]:
    path = "spec.rules"
    spec = config.mapping(value, path=path, problems=problems, allowed=model.RULE_IDS)
    if spec is None:
        return (), None
    image_signatures: signatures.Settings | None = None
    if spec.get(signatures.ID) is not None:
        try:
            image_signatures = signatures.parse(
                spec[signatures.ID], config.child(path, signatures.ID)
            )
        except registry.ConfigError as error:
            problems.extend(error.problems)
    bound: list[registry.BoundCheck] = []
    for rule_id, rule in rules.RULES.items():
        if rule_id not in spec:
            continue
        try:
            check = rule.bind(spec[rule_id], config.child(path, rule_id))
        except registry.ConfigError as error:
            problems.extend(error.problems)
            continue
        if check is not None:
            bound.append(check)
    return tuple(bound), image_signatures


def _patterns(
    value: object,
    path: str,
    *,
    problems: config.Problems,
    empty: str,
    validate: patterns.Validator | None = None,
    build: Callable[[Iterable[str]], patterns.Patterns] = patterns.of,
) -> patterns.Patterns | None:
    try:
        return patterns.parse(value, path, empty=empty, validate=validate, build=build)
    except registry.ConfigError as error:
        problems.extend(error.problems)
        return None


def _selector(value: object, path: str, problems: config.Problems) -> selectors.LabelSelector:
    try:
        return selectors.parse(value, path)
    except registry.ConfigError as error:
        problems.extend(error.problems)
        return selectors.EVERYTHING


def _not_in_namespaced(path: str) -> registry.Problem:
    return registry.Problem(
        path,
        "not allowed in a ContainerPolicy: it always applies to its own namespace "
        "(use a ClusterContainerPolicy to choose namespaces)",
    )


def _match(
    value: object, *, kind: model.PolicyKind | None, problems: config.Problems
) -> model.Match:
    path = "spec.match"
    spec = config.mapping(value, path=path, problems=problems, allowed=MATCH_FIELDS)
    if spec is None:
        return model.MATCH_EVERYTHING
    kinds: frozenset[str] | None = None
    if spec.get("kinds") is not None:
        at = f"{path}.kinds"
        written = config.strings(
            spec["kinds"],
            path=at,
            problems=problems,
            empty="must not be empty: it would match nothing (leave it out to match every kind)",
        )
        if written is not None:
            for index, item in enumerate(written):
                if item not in model.WORKLOAD_KINDS:
                    problems.append(
                        registry.Problem(
                            f"{at}[{index}]",
                            f"unknown kind {item!r}: must be one of "
                            f"{', '.join(model.WORKLOAD_KINDS)}"
                            + config.suggestion(item, model.WORKLOAD_KINDS),
                        )
                    )
            kinds = frozenset(written)
    namespaces: patterns.Patterns | None = None
    namespace_selector: selectors.LabelSelector | None = None
    namespaced = kind == model.NAMESPACED_KIND
    if spec.get("namespaces") is not None:
        at = f"{path}.namespaces"
        if namespaced:
            problems.append(_not_in_namespaced(at))
        else:
            namespaces = _patterns(
                spec["namespaces"],
                at,
                problems=problems,
                empty="must not be empty: it would match nothing "
                "(leave it out to match every namespace)",
                validate=_dns_label_pattern("namespace"),
            )
    if spec.get("namespaceSelector") is not None:
        at = f"{path}.namespaceSelector"
        if namespaced:
            problems.append(_not_in_namespaced(at))
        else:
            namespace_selector = _selector(spec["namespaceSelector"], at, problems)
    object_selector: selectors.LabelSelector | None = None
    if spec.get("objectSelector") is not None:
        object_selector = _selector(spec["objectSelector"], f"{path}.objectSelector", problems)
    return model.Match(
        kinds=kinds,
        namespaces=namespaces,
        namespace_selector=namespace_selector,
        object_selector=object_selector,
    )


def _expires(value: object, path: str, problems: config.Problems) -> datetime.datetime | None:
    """The instant an entry stops applying: a date lasts to the end of that day (UTC)."""
    reason = (
        "must be a date (2027-01-31, in force through that day, UTC) "
        "or an RFC 3339 timestamp (2027-01-31T18:00:00Z)"
    )
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value
    if isinstance(value, datetime.date):
        return _end_of(value)
    if not isinstance(value, str):
        problems.append(registry.Problem(path, f"{reason}, not {config.describe(value)}"))
        return None
    try:
        if _DATE.match(value):
            return _end_of(datetime.date.fromisoformat(value))
        if _RFC3339.match(value):
            text = value.upper().replace("Z", "+00:00")
            return datetime.datetime.fromisoformat(text)
    except ValueError:
        problems.append(registry.Problem(path, f"{value!r} is not a real date or time"))
        return None
    problems.append(registry.Problem(path, f"{reason}, not {value!r}"))
    return None


def _end_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day + _ONE_DAY, datetime.time(), tzinfo=datetime.UTC)


def unknown_check(item: str) -> str | None:
    """Why ``item`` is no check id (a rule id or ``pss/<Pod Security id>``), or ``None``."""
    known = set(model.RULE_IDS) | model.POD_SECURITY_CHECK_IDS
    if item in known:
        return None
    upstream = model.POD_SECURITY_PREFIX + item
    hint = (
        f"; Pod Security check ids are written with their prefix: {upstream!r}"
        if upstream in model.POD_SECURITY_CHECK_IDS
        else config.suggestion(item, sorted(known))
    )
    return (
        f"unknown check {item!r}: must be a rule id or a Pod Security check id "
        f"({model.POD_SECURITY_PREFIX}<id>){hint}"
    )


def _checks(value: object, path: str, problems: config.Problems) -> frozenset[str] | None:
    written = config.strings(
        value,
        path=path,
        problems=problems,
        empty="must not be empty: leave it out to exempt every check",
    )
    if written is None:
        return None
    before = len(problems)
    for index, item in enumerate(written):
        reason = unknown_check(item)
        if reason is not None:
            problems.append(registry.Problem(f"{path}[{index}]", reason))
    return frozenset(written) if len(problems) == before else None


def _exclusion(
    value: object, *, index: int, kind: model.PolicyKind | None, problems: config.Problems
) -> model.Exclusion | None:
    path = f"spec.exclude[{index}]"
    before = len(problems)
    entry = config.mapping(value, path=path, problems=problems, allowed=EXCLUSION_FIELDS)
    if entry is None:
        return None
    if not any(entry.get(key) is not None for key in EXCLUSION_SELECTORS):
        problems.append(
            registry.Problem(
                path,
                "selects nothing: give at least one of " + config.one_of(EXCLUSION_SELECTORS),
            )
        )
        return None

    def read(
        key: str,
        what: str,
        validate: patterns.Validator | None = None,
        build: Callable[[Iterable[str]], patterns.Patterns] = patterns.of,
    ) -> patterns.Patterns | None:
        if entry.get(key) is None:
            return None
        return _patterns(
            entry[key],
            f"{path}.{key}",
            problems=problems,
            empty=f"must not be empty: it would match no {what} (leave it out to match any)",
            validate=validate,
            build=build,
        )

    namespaces: patterns.Patterns | None = None
    if entry.get("namespaces") is not None and kind == model.NAMESPACED_KIND:
        problems.append(_not_in_namespaced(f"{path}.namespaces"))
    else:
        namespaces = read("namespaces", "namespace", _dns_label_pattern("namespace"))
    usernames = read("usernames", "user")
    groups = read("groups", "group")
    images = read("images", "image", _image_pattern, patterns.images_of)
    containers = read("containers", "container", _dns_label_pattern("container"))
    checks = (
        None
        if entry.get("checks") is None
        else _checks(entry["checks"], f"{path}.checks", problems)
    )
    reason = ""
    if entry.get("reason") is not None:
        reason = config.string(entry["reason"], path=f"{path}.reason", problems=problems) or ""
    expires = None
    if entry.get("expires") is not None:
        expires = _expires(entry["expires"], f"{path}.expires", problems)
    if len(problems) != before:
        return None
    return model.Exclusion(
        index=index,
        namespaces=namespaces,
        usernames=usernames,
        groups=groups,
        images=images,
        containers=containers,
        checks=checks,
        reason=reason,
        expires=expires,
    )


def _exclude(
    value: object, *, kind: model.PolicyKind | None, problems: config.Problems
) -> tuple[model.Exclusion, ...]:
    if isinstance(value, Mapping):
        problems.append(
            registry.Problem(
                "spec.exclude",
                "must be a list of exclusion entries, not an object "
                "(write each entry as a list item: '- namespaces: [...]')",
            )
        )
        return ()
    if not isinstance(value, list | tuple):
        problems.append(
            registry.Problem("spec.exclude", f"must be a list, not {config.describe(value)}")
        )
        return ()
    out: list[model.Exclusion] = []
    for index, item in enumerate(value):
        entry = _exclusion(item, index=index, kind=kind, problems=problems)
        if entry is not None:
            out.append(entry)
    return tuple(out)


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
    name, namespace, generation = _metadata(document, kind=kind, problems=problems)
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
    checks: tuple[registry.BoundCheck, ...] = ()
    image_signatures: signatures.Settings | None = None
    match = model.MATCH_EVERYTHING
    exclusions: tuple[model.Exclusion, ...] = ()
    if spec is not None:
        action = _action(spec, problems)
        before = len(problems)
        if spec.get("profile") is not None:
            profile = _profile(spec["profile"], latest_minor=latest_minor, problems=problems)
        if spec.get("rules") is not None:
            checks, image_signatures = _rules(spec["rules"], problems)
        runs_nothing = (
            (profile is None or profile.level == "privileged")
            and not checks
            and image_signatures is None
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
            match = _match(spec["match"], kind=kind, problems=problems)
        if spec.get("exclude") is not None:
            exclusions = _exclude(spec["exclude"], kind=kind, problems=problems)
    if problems or kind is None or name is None:
        raise CompileError(problems)
    return model.CompiledPolicy(
        kind=kind,
        name=name,
        namespace=namespace,
        action=action,
        profile=profile,
        checks=checks,
        image_signatures=image_signatures,
        generation=generation,
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
