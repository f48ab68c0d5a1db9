"""Fixtures: one real registry and cosign for the session, and two cosign key pairs."""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterator

import pytest

from tests.supplychain import harness


@dataclasses.dataclass(frozen=True)
class KeyPair:
    private: pathlib.Path
    public: pathlib.Path
    public_pem: str


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    return harness.binaries()


@pytest.fixture(scope="session")
def registry(
    bin_dir: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[harness.Registry]:
    with harness.Registry(bin_dir=bin_dir, workdir=tmp_path_factory.mktemp("registry")) as reg:
        yield reg


@pytest.fixture(scope="session")
def cosign(bin_dir: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> harness.Cosign:
    return harness.Cosign(bin_dir=bin_dir, workdir=tmp_path_factory.mktemp("cosign"))


def _key_pair(cosign: harness.Cosign, name: str) -> KeyPair:
    private, public_pem = cosign.generate_key_pair(name)
    return KeyPair(private=private, public=private.with_suffix(".pub"), public_pem=public_pem)


@dataclasses.dataclass(frozen=True)
class Keys:
    """The key the policies trust, and one they do not."""

    trusted: KeyPair
    other: KeyPair


@pytest.fixture(scope="session")
def keys(cosign: harness.Cosign) -> Keys:
    return Keys(trusted=_key_pair(cosign, "trusted"), other=_key_pair(cosign, "other"))
