"""A one-line summary of a compiled policy for the CLI and logs. Pure, no I/O."""

from __future__ import annotations

from webhook.policy import model


def describe(compiled: model.CompiledPolicy) -> str:
    """One line: ``ClusterContainerPolicy/x: Deny, profile restricted:latest, rules [images]``.

    The action, the profile, the enabled rule ids and the number of exclusion entries.
    """
    parts: list[str] = [compiled.action]
    if compiled.profile is not None:
        parts.append(f"profile {compiled.profile.label}")
    if compiled.rule_ids:
        parts.append(f"rules [{', '.join(compiled.rule_ids)}]")
    count = len(compiled.exclusions)
    if count:
        parts.append(f"{count} exclusion{'s' if count != 1 else ''}")
    return f"{compiled.key}: {', '.join(parts)}"
