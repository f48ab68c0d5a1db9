"""Kubernetes label selectors (``matchLabels`` and ``matchExpressions``). Pure, no I/O.

Semantics follow ``metav1.LabelSelector`` exactly:

* every ``matchLabels`` entry and every ``matchExpressions`` requirement must
  hold (AND); ``matchLabels: {k: v}`` is the requirement ``k In [v]``;
* ``In``: the label is present and its value is one of ``values``;
  ``NotIn``: the label is absent or its value is none of ``values``;
  ``Exists``: the label is present; ``DoesNotExist``: the label is absent;
* ``In`` and ``NotIn`` need a non-empty ``values``, ``Exists`` and
  ``DoesNotExist`` must have none;
* an empty selector (``{}``) matches every set of labels, including none.

Keys must be valid label keys (``[prefix/]name``) and values valid label
values, as the API server demands; a selector that breaks those rules could
never match a real object, so it is refused rather than silently inert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final, Literal

from webhook.policy import names
from webhook.rules import config, registry

Operator = Literal["In", "NotIn", "Exists", "DoesNotExist"]
OPERATORS: Final[tuple[Operator, ...]] = ("In", "NotIn", "Exists", "DoesNotExist")
#: The fields of a label selector, as written in a policy.
FIELDS: Final = ("matchLabels", "matchExpressions")
#: The fields of one ``matchExpressions`` entry.
EXPRESSION_FIELDS: Final = ("key", "operator", "values")


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label key, or ``None`` when it is."""
    prefix, slash, name = key.rpartition("/")
    if slash and not names.is_dns_subdomain(prefix):
        return "is not a valid label key: the prefix before '/' must be a DNS subdomain"
    if not names.is_label_name(name):
        return (
            "is not a valid label key: the name must be at most 63 characters of "
            "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or ``None`` when it is (``""`` is valid)."""
    if value and not names.is_label_name(value):
        return (
            "is not a valid label value: at most 63 characters of letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Requirement:
    """One condition on one label."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            value = labels.get(self.key)
            return value is not None and value in self.values
        if self.operator == "NotIn":
            value = labels.get(self.key)
            return value is None or value not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels

    def __str__(self) -> str:
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={next(iter(self.values))}"
        word = "in" if self.operator == "In" else "notin"
        return f"{self.key} {word} ({','.join(sorted(self.values))})"


@dataclasses.dataclass(frozen=True, slots=True)
class LabelSelector:
    """Requirements that must all hold; no requirements matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def unknown_keys(self, labels: Mapping[str, str], known: AbstractSet[str]) -> frozenset[str]:
        """The label keys outside ``known`` whose values would decide whether this matches.

        Empty when ``labels`` (of which only the keys in ``known`` are known;
        any other label may or may not exist) decide the answer on their own:
        every requirement reads a known key, or one that does already fails.
        """
        unknown = frozenset(r.key for r in self.requirements if r.key not in known)
        if not unknown:
            return unknown
        if any(r.key in known and not r.matches(labels) for r in self.requirements):
            return frozenset()
        return unknown

    def __str__(self) -> str:
        """kubectl's selector syntax: ``app=web,tier in (a,b),!legacy``; ``""`` for everything."""
        return ",".join(str(r) for r in self.requirements)


#: The empty selector: matches every set of labels.
EVERYTHING: Final = LabelSelector()


def _label_string(value: object, *, path: str, problems: config.Problems) -> str | None:
    if isinstance(value, bool | int | float):
        problems.append(
            registry.Problem(
                path,
                f"must be a string, not {config.describe(value)}; "
                f'quote it ("{str(value).lower() if isinstance(value, bool) else value}")',
            )
        )
        return None
    if not isinstance(value, str):
        problems.append(registry.Problem(path, f"must be a string, not {config.describe(value)}"))
        return None
    reason = value_problem(value)
    if reason is not None:
        problems.append(registry.Problem(path, reason))
        return None
    return value


def _match_labels(value: object, *, path: str, problems: config.Problems) -> list[Requirement]:
    labels = config.mapping(value, path=path, problems=problems)
    if labels is None:
        return []
    out: list[Requirement] = []
    for key, label in labels.items():
        at = config.child(path, key)
        reason = key_problem(str(key))
        if reason is not None:
            problems.append(registry.Problem(at, reason))
            continue
        text = _label_string(label, path=at, problems=problems)
        if text is not None:
            out.append(Requirement(key=str(key), operator="In", values=frozenset((text,))))
    return out


def _expression(value: object, *, path: str, problems: config.Problems) -> Requirement | None:
    before = len(problems)
    entry = config.mapping(value, path=path, problems=problems, allowed=EXPRESSION_FIELDS)
    if entry is None:
        return None
    key: str | None = None
    if "key" not in entry:
        problems.append(registry.Problem(f"{path}.key", "required"))
    else:
        key = config.string(entry["key"], path=f"{path}.key", problems=problems)
        reason = None if key is None else key_problem(key)
        if reason is not None:
            problems.append(registry.Problem(f"{path}.key", reason))
    operator: Operator | None = None
    raw = entry.get("operator")
    if raw is None:
        problems.append(
            registry.Problem(f"{path}.operator", f"required: {config.one_of(OPERATORS)}")
        )
    else:
        operator = config.choice(raw, OPERATORS, path=f"{path}.operator", problems=problems)
    values: list[str] = []
    raw_values = entry.get("values")
    if raw_values is not None:
        if not isinstance(raw_values, list | tuple):
            problems.append(
                registry.Problem(
                    f"{path}.values", f"must be a list, not {config.describe(raw_values)}"
                )
            )
        else:
            for index, item in enumerate(raw_values):
                text = _label_string(item, path=f"{path}.values[{index}]", problems=problems)
                if text is not None:
                    values.append(text)
    if operator in ("In", "NotIn") and not raw_values:
        problems.append(
            registry.Problem(f"{path}.values", f"required and non-empty for operator {operator}")
        )
    if operator in ("Exists", "DoesNotExist") and raw_values:
        problems.append(
            registry.Problem(f"{path}.values", f"must be empty for operator {operator}")
        )
    if len(problems) != before or key is None or operator is None:
        return None
    return Requirement(key=key, operator=operator, values=frozenset(values))


def parse(value: object, path: str) -> LabelSelector:
    """Read the label selector at ``path``; ``registry.ConfigError`` lists every problem.

    ``None`` (the field left out) and ``{}`` both give ``EVERYTHING``.
    """
    if value is None:
        return EVERYTHING
    problems: config.Problems = []
    selector: Mapping[str, Any] | None = config.mapping(
        value, path=path, problems=problems, allowed=FIELDS
    )
    requirements: list[Requirement] = []
    if selector is not None:
        if selector.get("matchLabels") is not None:
            requirements.extend(
                _match_labels(
                    selector["matchLabels"], path=f"{path}.matchLabels", problems=problems
                )
            )
        expressions = selector.get("matchExpressions")
        if expressions is not None:
            at = f"{path}.matchExpressions"
            if not isinstance(expressions, list | tuple):
                problems.append(
                    registry.Problem(at, f"must be a list, not {config.describe(expressions)}")
                )
            else:
                for index, item in enumerate(expressions):
                    requirement = _expression(item, path=f"{at}[{index}]", problems=problems)
                    if requirement is not None:
                        requirements.append(requirement)
    if problems:
        raise registry.ConfigError(problems)
    return LabelSelector(requirements=tuple(requirements))
