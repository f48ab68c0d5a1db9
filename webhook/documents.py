"""Reading Kubernetes objects from YAML or JSON files, directories or stdin. Does file I/O.

Multi-document YAML, JSON, ``kind: List`` (and ``*List``) objects and ``helm
template`` output all come out as one ``Document`` per object, each knowing
its file and document number so an error can name the one at fault. Empty
documents are skipped.

Hostile or broken input is refused with ``DocumentError``, never judged:

* a duplicate mapping key (a later key would silently win, and a security
  check must not judge a different object than the API server stores) and a
  key that is itself a list or a mapping ("found unhashable key"; JSON has
  no such keys);
* aliases that expand a document by more than ``MAX_ALIAS_NODES`` nodes (an
  "alias bomb": a few hundred bytes can stand for gigabytes once expanded)
  and recursive aliases;
* nesting deeper than libyaml's limit of 1,000 levels;
* in a directory, a file or symlink that resolves outside the directory
  given (a symlink inside it, such as a ConfigMap volume's ``..data``, is
  followed). Hidden entries (names starting with ``.``) are skipped, so a
  ConfigMap volume's ``..2026_01_01...`` copies are not read twice.

libyaml's C parser is used when PyYAML has it (several times faster on large
inputs; ``benchmarks/documents.py`` measures it), with the same constructor,
so both loaders accept and refuse exactly the same documents.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, Final, TypeVar, cast

import yaml

from webhook import policy

SUFFIXES: Final = frozenset({".yaml", ".yml", ".json"})
#: How many nodes aliases may add to one document once expanded.
MAX_ALIAS_NODES: Final = 100_000


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


_Loader = TypeVar("_Loader", yaml.SafeLoader, yaml.CSafeLoader)


def _construct_mapping(
    loader: yaml.SafeLoader | yaml.CSafeLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    """A mapping, refused when a key repeats (after ``<<`` merges) or is a list or mapping.

    PyYAML refuses unhashable keys itself; a repeated key is spotted by the
    mapping coming out shorter than the node, and only then looked for.
    """
    loader.flatten_mapping(node)
    mapping = yaml.constructor.BaseConstructor.construct_mapping(loader, node, deep=True)
    if len(mapping) != len(node.value):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return mapping


def _strict(base: type[_Loader]) -> type[_Loader]:
    """A subclass of ``base`` (PyYAML's safe loader) that refuses duplicate keys."""
    strict = cast(type[_Loader], type(f"Strict{base.__name__}", (base,), {}))
    strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    return strict


PYTHON_LOADER: Final = _strict(yaml.SafeLoader)
#: The loader ``parse`` uses by default: libyaml's parser when PyYAML was built with it.
LOADER: Final[type[yaml.SafeLoader] | type[yaml.CSafeLoader]] = (
    _strict(yaml.CSafeLoader) if yaml.__with_libyaml__ else PYTHON_LOADER
)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_aliases(root: yaml.Node, where: str) -> None:
    """Refuse a document whose aliases expand it by more than ``MAX_ALIAS_NODES`` nodes.

    Sizes are counted once per distinct node (aliases share their anchor's
    node), so this costs one pass over what was parsed, not over the expansion.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise DocumentError(f"{where}: a recursive alias (an anchor used inside itself)")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    if sizes[id(root)] - len(sizes) > MAX_ALIAS_NODES:
        raise DocumentError(
            f"{where}: aliases expand this document to {sizes[id(root)]:,} nodes "
            f"(more than {MAX_ALIAS_NODES:,} beyond its own {len(sizes):,}); "
            "refused as an alias bomb"
        )


def _load(
    text: str, source: str, loader_class: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
) -> Iterator[object]:
    """Each document of ``text`` constructed, after its aliases were checked."""
    loader = loader_class(text)
    aliases_possible = "&" in text  # an alias needs an anchor, and an anchor needs "&"
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if aliases_possible and node is not None:
                _check_aliases(node, f"{source} (document {index + 1})")
            yield loader.construct_document(node)
            index += 1
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        at = "" if mark is None else f", line {mark.line + 1}, column {mark.column + 1}"
        what = "; ".join(part for part in (err.context, err.problem) if part)
        raise DocumentError(
            f"{source} (document {index + 1}{at}): not valid YAML or JSON: {what}"
        ) from err
    except yaml.YAMLError as err:
        raise DocumentError(f"{source}: not valid YAML or JSON: {err}") from err
    except RecursionError as err:
        raise DocumentError(f"{source} (document {index + 1}): nested too deeply") from err
    finally:
        loader.dispose()


def parse(
    text: str,
    source: str,
    *,
    loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = LOADER,
) -> list[Document]:
    """Every object in ``text`` (YAML or JSON), Lists expanded."""
    out: list[Document] = []
    for index, body in enumerate(_load(text, source, loader)):
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


def _hidden(path: pathlib.Path, root: pathlib.Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _files(path: pathlib.Path) -> Iterator[pathlib.Path]:
    """``path`` itself, or every YAML/JSON file below the directory ``path``.

    In a directory, hidden entries are skipped and an entry that resolves
    outside the directory (through a symlink) is a ``DocumentError``.
    """
    if not path.is_dir():
        yield path
        return
    root = path.resolve()
    for found in sorted(path.rglob("*")):
        if found.suffix not in SUFFIXES or _hidden(found, path) or not found.is_file():
            continue
        if not found.resolve().is_relative_to(root):
            raise DocumentError(
                f"{found}: a symlink to {found.resolve()}, outside {path}; "
                "give that file itself if it should be read"
            )
        yield found


def namespace_labels(docs: Sequence[Document]) -> dict[str, Mapping[str, str]]:
    """Name -> labels of every ``Namespace`` object among ``docs`` (``kubectl get ns -o yaml``)."""
    found: dict[str, Mapping[str, str]] = {}
    for doc in docs:
        if doc.body.get("kind") != "Namespace":
            continue
        metadata = doc.body.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        if not isinstance(name, str) or not name:
            raise DocumentError(f"{doc.where}: a Namespace needs metadata.name")
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        if labels is None:
            labels = {}
        if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise DocumentError(
                f"{doc.where}: metadata.labels of Namespace {name!r} must map strings to strings"
            )
        found[name] = labels
    return found


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


def network_isolation(docs: Sequence[Document], *, default_namespace: str) -> policy.Isolation:
    """The default-deny NetworkPolicies among ``docs``: the evidence ``networkPolicy`` judges with.

    A NetworkPolicy without ``metadata.namespace`` is in ``default_namespace``.
    """
    return policy.network_policy.of_objects(
        (d.body for d in docs if d.body.get("kind") == policy.network_policy.KIND),
        default_namespace=default_namespace,
    )
