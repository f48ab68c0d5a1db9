"""Policies from files and ``--profile`` texts, compiled. Does file I/O.

``bulkhead check`` and ``bulkhead serve`` both load their policies here, so
both accept the same files and refuse bad ones with the same words: every
``ClusterContainerPolicy``/``ContainerPolicy`` document under the given paths
(files, directories, ``-`` for stdin) plus one Deny policy per profile text
(``restricted``, ``baseline:v1.30``). Anything unusable raises
``PolicyFileError`` naming the file, the document and every problem.

Zero policies is never a policy set: an empty or comment-only file, an
empty directory or a directory of other objects would otherwise judge
nothing and admit everything. ``load`` raises ``NoPoliciesError`` for it
(``bulkhead check`` exits 2, ``bulkhead serve`` refuses to start, and a
reload keeps the last good set and is not ready).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from webhook import documents, policy


class PolicyFileError(ValueError):
    """Policies cannot be loaded; the message names the file and document at fault."""


class NoPoliciesError(PolicyFileError):
    """The paths and profiles hold no policy at all (which would admit everything)."""


def profile_document(text: str) -> dict[str, object]:
    """The ClusterContainerPolicy that enforces ``level[:version]`` as a Deny policy."""
    level, _, version = text.partition(":")
    return {
        "apiVersion": policy.API_VERSION,
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": f"profile-{level}"},
        "spec": {"action": "Deny", "profile": {"level": level, "version": version or "latest"}},
    }


def compile_profiles(texts: Sequence[str], *, latest_minor: int) -> list[policy.CompiledPolicy]:
    """One Deny policy per profile text; a bad text is a PolicyFileError."""
    compiled: list[policy.CompiledPolicy] = []
    for text in texts:
        try:
            compiled.append(policy.compile(profile_document(text), latest_minor=latest_minor))
        except policy.CompileError as err:
            raise PolicyFileError(f"--profile {text}: {err}") from err
    return compiled


def load(
    paths: Sequence[str],
    profile_texts: Sequence[str] = (),
    *,
    latest_minor: int,
    stdin: IO[str] | None = None,
) -> tuple[policy.CompiledPolicy, ...]:
    """Every policy in ``paths`` and every profile, compiled; names must be unique."""
    compiled: list[policy.CompiledPolicy] = []
    try:
        docs = documents.read(paths, stdin=stdin)
    except documents.DocumentError as err:
        raise PolicyFileError(str(err)) from err
    for doc in docs:
        kind = doc.body.get("kind")
        if kind not in policy.POLICY_KINDS:
            raise PolicyFileError(
                f"{doc.where}: not a ClusterContainerPolicy or ContainerPolicy (kind {kind!r})"
            )
        try:
            compiled.append(policy.compile(doc.body, latest_minor=latest_minor))
        except policy.CompileError as err:
            problems = "".join(f"\n  {p}" for p in err.problems)
            raise PolicyFileError(f"{doc.where}: invalid policy:{problems}") from err
    compiled.extend(compile_profiles(profile_texts, latest_minor=latest_minor))
    if not compiled and not paths:
        raise NoPoliciesError("no policy to enforce: give --policy-file or --profile")
    if not compiled:
        raise NoPoliciesError(
            f"no policy to enforce: {', '.join(paths)} holds no ClusterContainerPolicy or "
            "ContainerPolicy (an empty or comment-only file or an empty directory would "
            "admit everything)"
        )
    keys = [c.key for c in compiled]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise PolicyFileError(f"more than one policy is named {', '.join(duplicates)}")
    return tuple(compiled)
