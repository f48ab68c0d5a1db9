"""Reading Kubernetes objects from YAML or JSON files, directories or stdin. Does file I/O.

Multi-document YAML, JSON, ``kind: List`` (and ``*List``) objects and ``helm
template`` output all come out as one ``Document`` per object, each knowing
its file and document number so an error can name the one at fault. Empty
documents are skipped; duplicate mapping keys are refused (a later key would
silently win, and a security check must not judge a different object than
the API server stores).
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, Final

import yaml

SUFFIXES: Final = frozenset({".yaml", ".yml", ".json"})


class DocumentError(ValueError):
    """A file or document cannot be used; the message names which and why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """One object and where it came from."""

    source: str
    index: int
    body: Mapping[str, Any]
    item: int | None = None

    @property
    def where(self) -> str:
        item = "" if self.item is None else f", item {self.item + 1}"
        return f"{self.source} (document {self.index + 1}{item})"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def parse(text: str, source: str) -> list[Document]:
    """Every object in ``text`` (YAML or JSON), Lists expanded."""
    out: list[Document] = []
    try:
        loaded = list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.YAMLError as err:
        raise DocumentError(f"{source}: not valid YAML or JSON: {err}") from err
    for index, body in enumerate(loaded):
        if body is None:
            continue
        where = f"{source} (document {index + 1})"
        if not isinstance(body, Mapping):
            raise DocumentError(f"{where}: must be an object, not {type(body).__name__}")
        kind = body.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in body:
            items = body.get("items") or []
            if not isinstance(items, list):
                raise DocumentError(f"{where}: items must be a list")
            for position, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise DocumentError(f"{where}, item {position + 1}: must be an object")
                out.append(Document(source, index, item, position))
            continue
        out.append(Document(source, index, body))
    return out


def _files(path: pathlib.Path) -> Iterator[pathlib.Path]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    else:
        yield path


def read(paths: Sequence[str], *, stdin: IO[str] | None = None) -> list[Document]:
    """Every object in the given files and directories; ``-`` reads ``stdin``."""
    out: list[Document] = []
    for raw in paths:
        if raw == "-":
            if stdin is None:
                raise DocumentError("-: no standard input")
            out.extend(parse(stdin.read(), "-"))
            continue
        path = pathlib.Path(raw)
        if not path.exists():
            raise DocumentError(f"{raw}: no such file or directory")
        for file in _files(path):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise DocumentError(f"{file}: cannot be read: {err}") from err
            out.extend(parse(text, str(file)))
    return out
