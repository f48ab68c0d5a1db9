"""Reading manifests: both YAML loaders alike, hostile documents refused, safe directory walks."""

from __future__ import annotations

import os
import pathlib

import pytest
import yaml

from webhook import documents

LOADERS = [
    pytest.param(documents.PYTHON_LOADER, id="python"),
    pytest.param(documents.LOADER, id="libyaml" if yaml.__with_libyaml__ else "default"),
]

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: a, image: nginx}]
"""

#: 9 aliases per level, 7 levels: about 6 million nodes from 600 bytes.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdef", "bcdefg", strict=True)
)


def test_libyaml_is_used_when_pyyaml_has_it() -> None:
    assert yaml.__with_libyaml__, "PyYAML wheels for this platform ship libyaml"
    assert issubclass(documents.LOADER, yaml.CSafeLoader)


@pytest.mark.parametrize("loader", LOADERS)
def test_both_loaders_read_the_same_objects(loader: type[yaml.SafeLoader]) -> None:
    text = POD + "---\n# only a comment\n---\n" + '{"kind": "List", "items": [{"kind": "Pod"}]}'
    docs = documents.parse(text, "x.yaml", loader=loader)
    assert [(d.index, d.item, d.body.get("kind")) for d in docs] == [
        (0, None, "Pod"),
        (2, 0, "Pod"),
    ]
    assert docs[0].body == yaml.safe_load(POD)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: {b: 1, b: 1}\n", "duplicate key 'b'"),
        ("? [a, b]\n: c\n", "found unhashable key"),
        ("{? {a: 1} : c}\n", "found unhashable key"),
        (BOMB, "refused as an alias bomb"),
        ("a: &a [*a]\n", "a recursive alias"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "x.yaml"),
        ("a: [\n", "not valid YAML or JSON"),
    ],
    ids=[
        "duplicate",
        "nested-duplicate",
        "list-key",
        "mapping-key",
        "alias-bomb",
        "recursive-alias",
        "deep-nesting",
        "unclosed",
    ],
)
def test_hostile_documents_are_refused_by_both_loaders(
    loader: type[yaml.SafeLoader], text: str, message: str
) -> None:
    with pytest.raises(documents.DocumentError, match=message) as refused:
        documents.parse(text, "x.yaml", loader=loader)
    assert str(refused.value).startswith("x.yaml")


@pytest.mark.parametrize("loader", LOADERS)
def test_moderate_aliases_are_fine(loader: type[yaml.SafeLoader]) -> None:
    text = "env: &env [{name: A, value: b}]\nsame: *env\nmerged: {<<: {x: 1}, y: 2}\n"
    (doc,) = documents.parse(text, "x.yaml", loader=loader)
    assert doc.body["same"] == [{"name": "A", "value": "b"}]
    assert doc.body["merged"] == {"x": 1, "y": 2}


def test_a_symlink_out_of_the_directory_is_refused(tmp_path: pathlib.Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(POD)
    given = tmp_path / "manifests"
    given.mkdir()
    (given / "pod.yaml").write_text(POD)
    (given / "escape.yaml").symlink_to(outside)
    with pytest.raises(documents.DocumentError, match=r"escape\.yaml: a symlink to .*outside"):
        documents.read([str(given)])
    # the file itself, given explicitly, is read
    assert len(documents.read([str(outside)])) == 1


def test_a_symlinked_directory_out_of_the_directory_is_not_walked(tmp_path: pathlib.Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.yaml").write_text(POD)
    given = tmp_path / "manifests"
    given.mkdir()
    (given / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert documents.read([str(given)]) == []


def test_a_configmap_volume_is_read_once(tmp_path: pathlib.Path) -> None:
    """kubelet's layout: ``name -> ..data/name``, ``..data -> ..<timestamp>``."""
    volume = tmp_path / "policies"
    version = volume / "..2026_01_01_00_00_00.000000001"
    version.mkdir(parents=True)
    (version / "pod.yaml").write_text(POD)
    os.symlink(version.name, volume / "..data")
    os.symlink("..data/pod.yaml", volume / "pod.yaml")
    docs = documents.read([str(volume)])
    assert [d.source for d in docs] == [str(volume / "pod.yaml")]


def test_namespace_labels_come_from_namespace_objects() -> None:
    text = (
        "kind: List\nitems:\n"
        "- {kind: Namespace, metadata: {name: prod, labels: {env: prod}}}\n"
        "- {kind: Namespace, metadata: {name: bare}}\n"
        "---\n" + POD
    )
    found = documents.namespace_labels(documents.parse(text, "ns.yaml"))
    assert found == {"prod": {"env": "prod"}, "bare": {}}
    with pytest.raises(documents.DocumentError, match="must map strings to strings"):
        documents.namespace_labels(
            documents.parse("kind: Namespace\nmetadata: {name: x, labels: {on: 1}}\n", "n.yaml")
        )
