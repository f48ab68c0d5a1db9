"""Generate ``webhook/admission/shapechecks.py`` from the table in ``shapes.py``. File I/O.

The pod spec's type check runs on every review. Its table
(``webhook.admission.shapes``) is walked by small closures that call one
another once per object, list and map; the functions written here do the
same walk as straight-line code, each known field read with ``get`` and
nested values checked in place, no call at all. They are written to a
module, not made at run time, so that mypyc compiles them with the rest of
the core (setup.py): every variable is declared ``object`` and narrowed by
its ``type(...) is`` test, which compiled is a pointer comparison, and the
``get`` of a ``dict`` a direct call::

    python tools/generate_shapes.py           # rewrite shapechecks.py
    python tools/generate_shapes.py --check   # exit 1 when it is stale

``tests/unit/admission/test_shapes.py`` runs the check.
"""

from __future__ import annotations

import collections
import pathlib
import sys
import types
from collections.abc import Sequence
from typing import Final

import generated  # tools/generated.py, beside this script

REPO: Final = pathlib.Path(__file__).resolve().parents[1]
TARGET: Final = REPO / "webhook" / "admission" / "shapechecks.py"
GENERATED: Final = "webhook.admission.shapechecks"


def _table() -> types.ModuleType:
    """``webhook.admission.shapes``, imported whatever state the generated module is in.

    ``shapes`` imports the module this script writes; a stand-in takes its
    place for this import, so a stale, broken or missing one never stops its
    own regeneration.
    """
    stand_in = types.ModuleType(GENERATED)
    stand_in.pod_spec = stand_in.metadata = lambda value: False  # type: ignore[attr-defined]
    sys.modules[GENERATED] = stand_in
    from webhook.admission import shapes  # noqa: PLC0415 - only after the stand-in is in place

    return shapes


class _Source:
    """The functions that say whether a value has a shape of the table, as lines of Python.

    A named object shape of the table used in more than one place (a
    container, a probe's handler, a seccomp profile) gets a function of its
    own, called where it is used; the rest is inlined.
    """

    def __init__(self, shapes: types.ModuleType, roots: Sequence[str]) -> None:
        self.shapes = shapes
        self.constants: dict[frozenset[str], str] = {}
        uses: collections.Counter[int] = collections.Counter()
        for root in roots:
            self._count(getattr(shapes, root), uses)
        #: the shared shapes by id: their function's name, their name in the table, the shape
        self.shared = {
            id(value): (f"_{name.strip('_').lower()}", name, value)
            for name, value in vars(shapes).items()
            if isinstance(value, shapes.Object) and value.fields and uses[id(value)] > 1
        }
        self.lines: list[str] = []
        self.depth = 0
        self.keys: set[int] = set()

    def _count(self, shape: object, uses: collections.Counter[int]) -> None:
        """Count the places where the table names each shape (inside it: the first time only)."""
        uses[id(shape)] += 1
        if uses[id(shape)] > 1:
            return
        if isinstance(shape, self.shapes.ListOf):
            self._count(shape.item, uses)
        elif isinstance(shape, self.shapes.MapOf):
            self._count(shape.value, uses)
        elif isinstance(shape, self.shapes.Object):
            for field in (*shape.fields.values(), shape.rest):
                if field is not None:
                    self._count(field, uses)

    def _constant(self, values: frozenset[str]) -> str:
        if values not in self.constants:
            self.constants[values] = f"_KNOWN{len(self.constants)}"
        return self.constants[values]

    def _refuse(self, indent: str, condition: str) -> None:
        self.lines += [f"{indent}if {condition}:", f"{indent}    return False"]

    def emit(self, shape: object, value: str, depth: int, indent: str) -> None:
        """Lines that return False unless ``value`` (not ``None``) has ``shape``."""
        if depth and id(shape) in self.shared:
            self._refuse(indent, f"not {self.shared[id(shape)][0]}({value})")
            return
        self.depth = max(self.depth, depth + 1)
        inner = f"v{depth + 1}"
        if isinstance(shape, self.shapes.Scalar):
            tests = (f"type({value}) is not {t.__name__}" for t in shape.types)
            self._refuse(indent, " and ".join(tests))
            return
        if isinstance(shape, self.shapes.ListOf):
            self._refuse(indent, f"type({value}) is not list")
            self.lines.append(f"{indent}for {inner} in {value}:")  # every test refuses None
            self.emit(shape.item, inner, depth + 1, indent + "    ")
            return
        self._refuse(indent, f"type({value}) is not dict")
        if isinstance(shape, self.shapes.MapOf):
            self.lines.append(f"{indent}for {inner} in {value}.values():")
            self._unless_null(shape.value, inner, depth + 1, indent + "    ")
            return
        for key, field in shape.fields.items():
            self.lines.append(f"{indent}{inner} = {value}.get({key!r})")
            self._unless_null(field, inner, depth + 1, indent)
        if shape.rest is not None:
            self.keys.add(depth)
            self.lines += [
                f"{indent}for k{depth}, {inner} in {value}.items():",
                f"{indent}    if k{depth} in {self._constant(frozenset(shape.fields))}:",
                f"{indent}        continue",
            ]
            self._unless_null(shape.rest, inner, depth + 1, indent + "    ")

    def _unless_null(self, shape: object, value: str, depth: int, indent: str) -> None:
        self.lines.append(f"{indent}if {value} is not None:")
        self.emit(shape, value, depth, indent + "    ")

    def function(self, name: str, shape: object, doc: str) -> list[str]:
        """The lines of ``def name(v0: object) -> bool`` for ``shape``."""
        self.lines, self.depth, self.keys = [], 0, set()
        self.emit(shape, "v0", 0, "    ")
        return [
            f"def {name}(v0: object) -> bool:",
            f'    """{doc}"""',
            *(f"    v{depth}: object" for depth in range(1, self.depth + 1)),
            *(f"    k{depth}: object" for depth in sorted(self.keys)),
            *self.lines,
            "    return True",
        ]


#: The module's public functions and the shape of ``shapes`` each checks.
ROOTS: Final = {"pod_spec": "POD_SPEC", "metadata": "METADATA"}


def render() -> str:
    """The whole module."""
    shapes = _table()
    source = _Source(shapes, list(ROOTS.values()))
    functions = [
        source.function(
            name, getattr(shapes, table), f"Whether ``v0`` surely has ``shapes.{table}``."
        )
        for name, table in ROOTS.items()
    ]
    functions += [
        source.function(function, shape, f"``shapes.{name}``, where the others use it.")
        for function, name, shape in source.shared.values()
    ]
    constants = [
        f"{name}: Final = frozenset({sorted(values)!r})"
        for values, name in source.constants.items()
    ]
    lines = [
        '"""Whether a value surely has a shape of ``shapes``: generated, do not edit.',
        "",
        "Written by ``python tools/generate_shapes.py`` from the table in",
        "``webhook/admission/shapes.py``; ``shapes.Check`` says how it is used.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
        *constants,
    ]
    for function in functions:
        lines += ["", "", *function]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return generated.main("python tools/generate_shapes.py", TARGET, render, argv)


if __name__ == "__main__":
    sys.exit(main())
