"""Building OpenAPI v3 schema fragments for the policy CRDs. Pure, no I/O.

Each rule describes the value it takes under ``spec.rules.<id>`` with these
builders, and ``policy.schema`` assembles the whole CRD schema from the same
ones, so every fragment is written the same way: a ``description`` on every
field (``kubectl explain`` shows it), ``minItems: 1`` on lists unless an
empty list means something, and cross-field checks as CEL
``x-kubernetes-validations``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

Schema = dict[str, Any]

#: Most entries in a name-keyed map (``matchLabels``, ``maxLimits``).
MAX_PROPERTIES: Final = 64
#: A string without whitespace (registry prefixes, image patterns).
NO_WHITESPACE: Final = r"^\S+$"


def boolean(description: str) -> Schema:
    """A boolean field."""
    return {"type": "boolean", "description": description}


def string(description: str, **extra: Any) -> Schema:
    """A string field; ``extra`` adds keywords such as ``enum`` or ``pattern``."""
    return {"type": "string", "description": description, **extra}


def array(description: str, items: Schema, *, min_items: int = 1, **extra: Any) -> Schema:
    """A list of ``items``, at least ``min_items`` long (0: no minimum)."""
    schema: Schema = {"type": "array", "description": description, "items": items}
    if min_items:
        schema["minItems"] = min_items
    schema.update(extra)
    return schema


def names(description: str, *, pattern: str | None = None) -> Schema:
    """A non-empty list of non-empty strings (``config.strings``), each matching ``pattern``."""
    item: Schema = {"type": "string", "minLength": 1}
    if pattern is not None:
        item["pattern"] = pattern
    return array(description, item)


def obj(
    description: str,
    properties: Mapping[str, Schema],
    *,
    required: Sequence[str] = (),
    validations: Sequence[Mapping[str, str]] = (),
    **extra: Any,
) -> Schema:
    """An object with exactly ``properties`` (the apiserver prunes or refuses others)."""
    schema: Schema = {"type": "object", "description": description, "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    if validations:
        schema["x-kubernetes-validations"] = [dict(rule) for rule in validations]
    return schema


def cel(rule: str, message: str, **extra: str) -> dict[str, str]:
    """One ``x-kubernetes-validations`` entry: a CEL ``rule`` and the ``message`` refusing."""
    return {"rule": rule, "message": message, **extra}


def cel_list(values: Sequence[str]) -> str:
    """A CEL list literal of strings: ``['a', 'b']``."""
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def switch(*, on: bool, meaning: str) -> Schema:
    """The value of a rule that is one boolean: ``on`` enforces (``meaning``), the other is off."""
    return boolean(f"{str(on).lower()}: {meaning}; {str(not on).lower()}: not checked.")


def either(description: str) -> Schema:
    """A value that is a boolean or an object: a structural schema can only leave it open."""
    return {"description": description, "x-kubernetes-preserve-unknown-fields": True}
