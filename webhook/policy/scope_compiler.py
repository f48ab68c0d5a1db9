"""Compiling a policy's scope: ``spec.match`` and ``spec.exclude``. Pure, no I/O.

``spec.match`` says which requests a policy applies to (``model.Match``);
each ``spec.exclude`` entry says which requests or findings it exempts, and
until when (``model.Exclusion``). Both are read here for ``compiler``, which
owns the rest of the document; problems are appended, each with its field
path, to the list the compiler collects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from webhook.policy import model, names, patterns, selectors
from webhook.rules import config, registry

MATCH_FIELDS: Final = ("kinds", "namespaces", "namespaceSelector", "objectSelector")
#: Fields of an exclusion entry that select requests or findings.
EXCLUSION_SELECTORS: Final = ("namespaces", "usernames", "groups", "images", "containers", "checks")
EXCLUSION_FIELDS: Final = (*EXCLUSION_SELECTORS, "reason", "expires")

_DNS_LABEL_GLOB: Final = re.compile(r"^[-a-z0-9*]+$")


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


def match(
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
                if item not in model.MATCH_KINDS:
                    problems.append(
                        registry.Problem(
                            f"{at}[{index}]",
                            f"unknown kind {item!r}: must be one of "
                            f"{', '.join(model.MATCH_KINDS)}"
                            + config.suggestion(item, model.MATCH_KINDS),
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
        expires = config.expiry(entry["expires"], f"{path}.expires", problems=problems)
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


def exclude(
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
