"""The chart's output as the real kube-apiserver sees it: schemas, and CRD upgrades.

Owns, against the chart tests' own control plane:

* every object the chart renders, for several value combinations, passes a
  server-side dry-run apply with strict field validation, so each field is
  checked against the apiserver's own OpenAPI schema (an unknown or
  misplaced field, a wrong type, an invalid selector all fail). The chart's
  CRDs are applied first (for real: custom resources of a kind the
  apiserver does not serve cannot be dry-run). Kinds of other projects
  (cert-manager's Certificate and Issuer, the Prometheus Operator's
  ServiceMonitor) are served by stand-in CRDs that accept any fields: the
  apiserver then checks their kind, scope and metadata, and tests/chart's
  render tests check their fields;
* the documented CRD upgrade (docs/install.md): ``helm upgrade`` leaves the
  CRDs of an older chart as they were (Helm never upgrades ``crds/``), and
  ``kubectl apply --server-side -f charts/bulkhead/crds/`` before it brings
  them to the chart's version.

I/O: runs helm and kubectl against the control plane, writes temporary files.
"""

from __future__ import annotations

import json
import pathlib
import shutil
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import pytest
import yaml

from devcluster import controlplane
from tests.chart import installing, rendering

pytestmark = pytest.mark.cluster

NS: Final = rendering.NAMESPACE
CRDS: Final = rendering.CHART / "crds"
#: Value combinations the dry run checks: (id, values, helm template extras).
COMBINATIONS: Final[list[tuple[str, dict[str, Any], Sequence[str]]]] = [
    ("defaults", {}, ()),
    (
        "every value users set",
        {
            "imagePullSecrets": [{"name": "registry-credentials"}],
            "webhook": {
                "replicas": 3,
                "antiAffinity": "hard",
                "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
                "podAnnotations": {"example.com/owner": "platform"},
                "podLabels": {"team": "platform"},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
                "affinity": {
                    "nodeAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 50,
                                "preference": {
                                    "matchExpressions": [
                                        {"key": "pool", "operator": "In", "values": ["system"]}
                                    ]
                                },
                            }
                        ]
                    }
                },
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                    }
                ],
                "priorityClassName": "system-cluster-critical",
                "extraArgs": ["--log-level=debug"],
                "extraEnv": [
                    {"name": "TZ", "value": "UTC"},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                ],
                "serviceAccount": {"annotations": {"example.com/role": "webhook"}},
                "namespaceSelector": {
                    "matchLabels": {"bulkhead.dev/judged": "true"},
                    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}],
                },
                "objectSelector": {
                    "matchExpressions": [{"key": "bulkhead.dev/skip", "operator": "DoesNotExist"}]
                },
            },
            "operator": {
                "podLabels": {"team": "platform"},
                "affinity": {
                    "podAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app": "x"}},
                            }
                        ]
                    }
                },
                "extraEnv": [
                    {
                        "name": "TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}},
                    }
                ],
                "serviceAccount": {"annotations": {"example.com/role": "operator"}},
            },
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "audit": {"enabled": True},
            "policies": {"restricted": "Deny", "version": "v1.30"},
        },
        rendering.MONITORING_API,
    ),
    ("cert-manager, self-signed", {"certManager": {"enabled": True}}, rendering.CERT_MANAGER_API),
    (
        "cert-manager, your issuer",
        {
            "certManager": {
                "enabled": True,
                "duration": "2160h",
                "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"},
            }
        },
        rendering.CERT_MANAGER_API,
    ),
]


@pytest.fixture(scope="module")
def served(control_plane: controlplane.ControlPlane) -> Iterator[controlplane.ControlPlane]:
    """The control plane with the chart's CRDs, the stand-ins and the release namespace."""
    cp = control_plane
    if NS not in cp.kubectl("get", "namespaces", "-o", "name").stdout:
        cp.create_namespace(NS)
    cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
    installing.wait_established(cp, *(p.name.removesuffix(".yaml") for p in CRDS.glob("*.yaml")))
    with installing.stand_in_crds(cp):
        yield cp


@pytest.mark.parametrize(
    ("values", "extra"),
    [(v, e) for _, v, e in COMBINATIONS],
    ids=[i for i, _, _ in COMBINATIONS],
)
def test_every_rendered_object_passes_the_apiservers_schemas(
    served: controlplane.ControlPlane, values: Mapping[str, Any], extra: Sequence[str]
) -> None:
    docs = rendering.render(values, extra=extra)
    # The helm test Pod is admitted only if its ServiceAccount exists: store those first.
    accounts = yaml.safe_dump_all([d for d in docs if d["kind"] == "ServiceAccount"])
    served.kubectl("apply", "--server-side", "-f", "-", input_text=accounts)
    try:
        result = served.kubectl(
            "apply", "--server-side", "--dry-run=server", "--validate=strict",
            "--field-manager=bulkhead-chart-test", "-f", "-",
            input_text=yaml.safe_dump_all(docs), check=False,
        )  # fmt: skip
    finally:
        served.kubectl("delete", "-f", "-", "--wait=false", input_text=accounts)
    assert result.returncode == 0, result.stderr
    checked = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(checked) == len(docs), result.stdout


def test_dry_run_catches_a_field_the_schema_does_not_know(
    served: controlplane.ControlPlane,
) -> None:
    """The control: the same dry run refuses a misplaced field (so a pass means something)."""
    docs = rendering.render()
    webhook = rendering.find(docs, "Deployment", "bulkhead-webhook")
    rendering.pod_spec(webhook)["containers"][0]["tolerations"] = []
    result = served.kubectl(
        "apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", "-",
        input_text=yaml.safe_dump(webhook), check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert '.containers[name="webhook"].tolerations: field not declared in schema' in (
        result.stderr
    )


# -- CRD upgrades ----------------------------------------------------------------------

_CCP: Final = "clustercontainerpolicies.bulkhead.dev"


def _served_schema(cp: controlplane.ControlPlane) -> dict[str, Any]:
    crd = json.loads(cp.kubectl("get", "crd", _CCP, "-o", "json").stdout)
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _file_schema(directory: pathlib.Path) -> dict[str, Any]:
    crd = yaml.safe_load((directory / f"{_CCP}.yaml").read_text(encoding="utf-8"))
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _actions(schema: Mapping[str, Any]) -> list[str]:
    """The ``spec.action`` values a policy's schema allows."""
    actions: list[str] = schema["properties"]["spec"]["properties"]["action"]["enum"]
    return actions


def _older_chart(directory: pathlib.Path) -> pathlib.Path:
    """A copy of the chart whose ClusterContainerPolicy CRD does not know ``action: Audit``."""
    chart = directory / "bulkhead"
    shutil.copytree(rendering.CHART, chart)
    path = chart / "crds" / f"{_CCP}.yaml"
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    _actions(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]).remove("Audit")
    path.write_text(yaml.safe_dump(crd), encoding="utf-8")
    return chart


def test_crds_upgrade_with_the_documented_step(
    control_plane: controlplane.ControlPlane, tmp_path: pathlib.Path
) -> None:
    cp = control_plane
    if NS not in cp.kubectl("get", "namespaces", "-o", "name").stdout:
        cp.create_namespace(NS)
    older = _older_chart(tmp_path)
    values = tmp_path / "values.json"
    values.write_text(json.dumps(installing.loopback_values(controlplane.free_port())))
    release = ("--namespace", NS, "--values", str(values))
    # A cluster that had the older chart: its CRDs as that chart's crds/ made them.
    cp.kubectl("delete", "crd", _CCP, "--ignore-not-found")
    try:
        installed = cp.helm("install", installing.RELEASE, str(older), *release)
        assert "STATUS: deployed" in installed.stdout, installed.stderr
        assert "Audit" not in _actions(_served_schema(cp))

        # helm upgrade alone never touches crds/: the older CRD stays.
        upgraded = cp.helm("upgrade", installing.RELEASE, str(rendering.CHART), *release)
        assert "STATUS: deployed" in upgraded.stdout, upgraded.stderr
        assert "Audit" not in _actions(_served_schema(cp))

        # The documented step: apply the chart's CRDs, then upgrade. helm owns the fields
        # it installed (server-side apply), so taking them over needs --force-conflicts.
        cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
        installing.wait_established(cp, _CCP)
        upgraded = cp.helm("upgrade", installing.RELEASE, str(rendering.CHART), *release)
        assert "STATUS: deployed" in upgraded.stdout, upgraded.stderr
        assert _served_schema(cp) == _file_schema(CRDS)
        # The new value is served: a policy using it is accepted.
        policy = {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "crd-upgrade-probe"},
            "spec": {"action": "Audit", "profile": {"level": "baseline", "version": "latest"}},
        }
        applied = cp.kubectl(
            "apply", "--server-side", "--dry-run=server", "--validate=strict", "-o", "json",
            "-f", "-", input_text=json.dumps(policy),
        )  # fmt: skip
        assert json.loads(applied.stdout)["spec"]["action"] == "Audit"
    finally:
        cp.helm("uninstall", installing.RELEASE, "--namespace", NS, "--wait", check=False)
        cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
