"""Where a field path sits in a YAML or JSON file, for reports that point at lines. Reads files.

``Locator.position(source, document=N, item=M, path=...)`` composes the file
(PyYAML nodes keep their line and column) and walks the field path
(``spec.containers[0].securityContext.privileged``,
``metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]``)
from the object's node: document ``N`` of the file, or item ``M`` of a
``kind: List``. The position is the field's key, or for a field the object
leaves out (a missing ``livenessProbe``) the nearest enclosing field that is
there, which is where the fix goes. Standard input (``-``) and files that
can no longer be read have no positions. Each file is read once.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Final

import yaml

Step = str | int
_UNREADABLE: Final[tuple[yaml.Node, ...]] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column; ``exact`` is false when the field itself is absent."""

    line: int
    column: int
    exact: bool


def steps(path: str) -> list[Step]:
    """``a.b[0].c[key.with.dots]`` -> ``["a", "b", 0, "c", "key.with.dots"]``."""
    out: list[Step] = []
    i = 0
    while i < len(path):
        if path[i] == ".":
            i += 1
        elif path[i] == "[":
            end = path.find("]", i)
            end = len(path) if end < 0 else end
            inside = path[i + 1 : end]
            out.append(int(inside) if inside.isdigit() else inside)
            i = end + 1
        else:
            end = len(path)
            for stop in (".", "["):
                found = path.find(stop, i)
                if found >= 0:
                    end = min(end, found)
            out.append(path[i:end])
            i = end
    return out


def _walk(node: yaml.Node, path: str) -> Position:
    mark = node.start_mark
    exact = True
    for step in steps(path):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    mark, child = key.start_mark, value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value)
        ):
            child = node.value[step]
            mark = child.start_mark
        if child is None:
            exact = False
            break
        node = child
    return Position(line=mark.line + 1, column=mark.column + 1, exact=exact)


def _item(document: yaml.Node, item: int) -> yaml.Node | None:
    if not isinstance(document, yaml.MappingNode):
        return None
    for key, value in document.value:
        if (
            isinstance(key, yaml.ScalarNode)
            and key.value == "items"
            and isinstance(value, yaml.SequenceNode)
            and item < len(value.value)
        ):
            found: yaml.Node = value.value[item]
            return found
    return None


class Locator:
    """Positions of field paths in the files objects were read from, each file composed once."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[yaml.Node, ...]] = {}

    def _documents(self, source: str) -> tuple[yaml.Node, ...]:
        if source not in self._files:
            if source == "-":
                self._files[source] = _UNREADABLE
            else:
                try:
                    text = pathlib.Path(source).read_text(encoding="utf-8")
                    nodes = tuple(yaml.compose_all(text, Loader=yaml.SafeLoader))
                except (OSError, UnicodeDecodeError, yaml.YAMLError):
                    nodes = _UNREADABLE
                self._files[source] = nodes
        return self._files[source]

    def position(
        self, source: str, *, document: int, item: int | None, path: str
    ) -> Position | None:
        """Where ``path`` is in the object at ``document`` (1-based) and ``item`` (0-based)."""
        nodes = self._documents(source)
        if not 0 < document <= len(nodes):
            return None
        node: yaml.Node | None = nodes[document - 1]
        if item is not None and node is not None:
            node = _item(node, item)
        return None if node is None else _walk(node, path)
