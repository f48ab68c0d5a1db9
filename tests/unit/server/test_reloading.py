"""Policy files and the certificate, loaded and reloaded into the state (real files)."""

from __future__ import annotations

import pathlib

from webhook.server import loaded, reloading, settings

GOOD = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: %s}
spec:
  rules: {privileged: false}
"""


def _config(paths: list[pathlib.Path], profiles: tuple[str, ...] = ()) -> settings.Settings:
    return settings.Settings(
        tls_cert_file="/c",
        tls_private_key_file="/k",
        policy_files=tuple(str(p) for p in paths),
        profiles=profiles,
    )


def test_the_source_reloads_only_on_change_and_keeps_the_last_good_set(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD % "a")
    held = loaded.State()
    source = reloading.PolicySource(config=_config([path]), into=held)
    source.poll()
    first = held.policies
    assert [p.key for p in first.policies] == ["ClusterContainerPolicy/a"]
    source.poll()
    assert held.policies is first  # unchanged files: nothing reloaded
    path.write_text("a: [")
    source.poll()
    assert held.policies.policies == first.policies
    assert held.policies.error is not None
    path.write_text(GOOD % "b")
    source.poll()
    assert [p.key for p in held.policies.policies] == ["ClusterContainerPolicy/b"]
    assert held.policies.error is None


def test_a_file_added_to_a_directory_changes_the_fingerprint(tmp_path: pathlib.Path) -> None:
    before = reloading.policy_fingerprint([str(tmp_path)])
    (tmp_path / "new.yaml").write_text(GOOD % "n")
    assert reloading.policy_fingerprint([str(tmp_path)]) != before
