"""Policy test suites: resources, policies and the verdicts expected (``bulkhead test``). File I/O.

A suite is a file named ``bulkhead-test.yaml``; ``bulkhead test DIR`` runs
every suite below ``DIR``. Paths in a suite are relative to its file::

    name: example policies          # optional; the directory name by default
    policies: [policies/]           # policy files or directories
    profiles: [baseline:v1.30]      # built-in Pod Security Standards, as Deny policies
    resources: [good/, bad/]        # the manifests to judge: files or directories
    namespace: default              # for resources that name none (default: default)
    results:
      - resource: Pod/node-debugger # Kind/name, or Kind/namespace/name
        policy: baseline            # optional: a policy's name (or Kind/name); omitted: any
        check: pss/privileged       # optional: one check id (rule id or pss/<id>)
        path: spec.hostNetwork      # optional: one field path
        result: fail                # fail: a violation matches; pass: none does

A suite needs ``resources``, ``results`` and ``policies`` or ``profiles``.
Resources are judged exactly as ``bulkhead check`` judges them (the caller
passes that judging in as ``judge``). Every expectation names a resource that
is in the suite, a policy the suite loads and a check id Bulkhead knows, or
the suite is refused (``SuiteError``, exit 2), so a typo cannot pass.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from webhook import documents, junit, policy, policyfiles

FILENAMES: Final = ("bulkhead-test.yaml", "bulkhead-test.yml")
RESULTS: Final = ("pass", "fail")
_SUITE_KEYS: Final = frozenset(
    {"name", "policies", "profiles", "resources", "namespace", "results"}
)
_RESULT_KEYS: Final = frozenset({"resource", "policy", "check", "path", "result"})

#: Judges every document with the policies (objects that name no namespace in the given
#: one), as ``bulkhead check`` does: one result per object of a kind with a pod spec.
Judge = Callable[
    [Sequence[documents.Document], Sequence[policy.CompiledPolicy], str],
    list[Mapping[str, Any]],
]


class SuiteError(ValueError):
    """A suite cannot be run; the message names the file and the field at fault."""


@dataclasses.dataclass(frozen=True, slots=True)
class Expectation:
    """One entry of ``results``: what a policy (or any policy) should say about a resource."""

    resource: str
    expected: str
    policy: str | None = None
    check: str | None = None
    path: str | None = None

    def describe(self) -> str:
        parts = [self.resource, f"policy {self.policy}" if self.policy else "any policy"]
        if self.check:
            parts.append(f"check {self.check}")
        if self.path:
            parts.append(f"at {self.path}")
        return " ".join(parts)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """An expectation and what the policies said: the violations that matched it."""

    suite: str
    name: str
    expectation: Expectation
    actual: str
    matched: tuple[str, ...]

    @property
    def failed(self) -> bool:
        return self.actual != self.expectation.expected


def _strings(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SuiteError(f"{where}: must be a list of strings")
    return list(value)


def _text(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise SuiteError(f"{where}.{key}: must be a non-empty string")
    return value


def _expectation(entry: object, where: str) -> Expectation:
    if not isinstance(entry, Mapping):
        raise SuiteError(f"{where}: must be an object")
    unknown = sorted(str(k) for k in entry if k not in _RESULT_KEYS)
    if unknown:
        raise SuiteError(
            f"{where}: unknown field {unknown[0]!r} (use {', '.join(sorted(_RESULT_KEYS))})"
        )
    resource = _text(entry, "resource", where)
    if resource is None or resource.count("/") not in (1, 2):
        raise SuiteError(f"{where}.resource: give Kind/name or Kind/namespace/name")
    expected = entry.get("result")
    if expected not in RESULTS:
        raise SuiteError(f"{where}.result: must be pass or fail, not {expected!r}")
    check = _text(entry, "check", where)
    reason = None if check is None else policy.unknown_check(check)
    if reason is not None:
        raise SuiteError(f"{where}.check: {reason}")
    return Expectation(
        resource=resource,
        expected=str(expected),
        policy=_text(entry, "policy", where),
        check=check,
        path=_text(entry, "path", where),
    )


def _relative(base: pathlib.Path, paths: Sequence[str]) -> list[str]:
    return [str(base / p) for p in paths]


def _find(results: Sequence[Mapping[str, Any]], resource: str, where: str) -> Mapping[str, Any]:
    kind, _, rest = resource.partition("/")
    namespace, _, name = rest.rpartition("/")
    found = [
        r
        for r in results
        if r["kind"] == kind and r["name"] == name and namespace in ("", r["namespace"])
    ]
    if not found:
        known = ", ".join(f"{r['kind']}/{r['namespace']}/{r['name']}" for r in results)
        raise SuiteError(f"{where}.resource: no resource {resource} in the suite ({known})")
    if len(found) > 1:
        raise SuiteError(f"{where}.resource: {resource} is ambiguous: give Kind/namespace/name")
    return found[0]


def _policy_key(name: str, loaded: Sequence[policy.CompiledPolicy], where: str) -> str:
    for compiled in loaded:
        if name in (compiled.key, compiled.key.partition("/")[2]):
            return compiled.key
    known = ", ".join(c.key for c in loaded)
    raise SuiteError(f"{where}.policy: no policy {name} in the suite ({known})")


def _compare(
    expectation: Expectation, result: Mapping[str, Any], policy_key: str | None
) -> tuple[str, tuple[str, ...]]:
    matched = tuple(
        f"{v['policy']}: [{v['check']}] {v['path']}: {v['message']}"
        for v in result["violations"]
        if policy_key in (None, v["policy"])
        and expectation.check in (None, v["check"])
        and expectation.path in (None, v["path"])
    )
    return ("fail" if matched else "pass"), matched


def run(suite_file: pathlib.Path, *, judge: Judge, latest_minor: int) -> list[Outcome]:
    """Judge one suite's resources and compare every expectation."""
    source = str(suite_file)
    try:
        text = suite_file.read_text(encoding="utf-8")
        docs = documents.parse(text, source)
    except (OSError, UnicodeDecodeError, documents.DocumentError) as err:
        raise SuiteError(f"{source}: cannot be read: {err}") from err
    if len(docs) != 1:
        raise SuiteError(f"{source}: must hold exactly one suite document, not {len(docs)}")
    spec = docs[0].body
    unknown = sorted(str(k) for k in spec if k not in _SUITE_KEYS)
    if unknown:
        raise SuiteError(
            f"{source}: unknown field {unknown[0]!r} (use {', '.join(sorted(_SUITE_KEYS))})"
        )
    base = suite_file.parent
    name = _text(spec, "name", source) or base.name
    namespace = _text(spec, "namespace", source) or "default"
    policy_paths = _strings(spec.get("policies", []), f"{source}: policies")
    profile_texts = _strings(spec.get("profiles", []), f"{source}: profiles")
    if not policy_paths and not profile_texts:
        raise SuiteError(f"{source}: give policies or profiles")
    resource_paths = _strings(spec.get("resources"), f"{source}: resources")
    entries = spec.get("results")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{source}: results: must be a non-empty list")
    expectations = [_expectation(e, f"{source}: results[{i}]") for i, e in enumerate(entries)]
    try:
        loaded = policyfiles.load(
            _relative(base, policy_paths), profile_texts, latest_minor=latest_minor
        )
        objects = documents.read(_relative(base, resource_paths))
    except (policyfiles.PolicyFileError, documents.DocumentError) as err:
        raise SuiteError(f"{source}: {err}") from err
    judged = judge(objects, loaded, namespace)
    outcomes: list[Outcome] = []
    for i, expectation in enumerate(expectations):
        where = f"{source}: results[{i}]"
        result = _find(judged, expectation.resource, where)
        key = None if expectation.policy is None else _policy_key(expectation.policy, loaded, where)
        actual, matched = _compare(expectation, result, key)
        outcomes.append(
            Outcome(
                suite=source, name=name, expectation=expectation, actual=actual, matched=matched
            )
        )
    return outcomes


def discover(paths: Sequence[str]) -> list[pathlib.Path]:
    """The suite files: each path is a suite file or a directory searched below."""
    found: list[pathlib.Path] = []
    for raw in paths:
        path = pathlib.Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.name in FILENAMES and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise SuiteError(f"{raw}: no such file or directory")
    if not found:
        raise SuiteError(f"no {FILENAMES[0]} in {', '.join(paths)}")
    return found


def run_all(paths: Sequence[str], *, judge: Judge, latest_minor: int) -> list[Outcome]:
    """Every suite under ``paths``, in file order."""
    outcomes: list[Outcome] = []
    for suite_file in discover(paths):
        outcomes.extend(run(suite_file, judge=judge, latest_minor=latest_minor))
    return outcomes


def _verdict(outcome: Outcome) -> str:
    expected = outcome.expectation.expected
    if outcome.failed:
        return f"expected {expected}, got {outcome.actual}"
    return expected


def text(outcomes: Sequence[Outcome]) -> str:
    """One line per expectation, grouped by suite, with the violations behind a mismatch."""
    lines: list[str] = []
    current = ""
    for outcome in outcomes:
        if outcome.suite != current:
            current = outcome.suite
            lines.append(f"{outcome.suite} ({outcome.name})")
        status = "FAIL" if outcome.failed else "ok  "
        lines.append(f"  {status}  {outcome.expectation.describe()}: {_verdict(outcome)}")
        if outcome.failed:
            lines.extend(f"          {m}" for m in outcome.matched)
    failed = sum(o.failed for o in outcomes)
    suites = len({o.suite for o in outcomes})
    lines.append(
        f"{len(outcomes)} expectations in {suites} suite{'s' if suites != 1 else ''}: "
        f"{len(outcomes) - failed} as expected, {failed} not"
    )
    return "\n".join(lines) + "\n"


def junit_report(outcomes: Sequence[Outcome]) -> str:
    """JUnit XML: one test case per expectation, one test suite per suite file."""
    cases = [
        junit.Case(
            suite=o.suite,
            name=o.expectation.describe(),
            failed=o.failed,
            summary=_verdict(o),
            details=o.matched,
        )
        for o in outcomes
    ]
    return junit.xml("bulkhead test", cases)
